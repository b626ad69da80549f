/**
 * The HAProxy driver's sync against the fake host's runtime API (no HAProxy needed): a new
 * server is added and set ready, a weight and an address follow the table, a server left out
 * goes to maintenance, only servers the driver added are deleted, and an unknown backend
 * fails the sync with HAProxy's answer. test/agent/haproxy.test.ts runs the same driver
 * against the real haproxy.
 */
import { describe, expect, it } from "vitest";
import { HaproxyDriver } from "../../host-agent/src/haproxy.js";
import { type DesiredService, desiredService } from "../../src/core/backends.js";
import { VirtualService } from "../../src/core/virtual-service.js";
import { FakeHost } from "./fake-host.js";

const service = (servers: { name: string; address: string; weight?: number }[], backend = "be"): DesiredService =>
  desiredService(
    VirtualService.parse({
      name: "web",
      vipGroup: "VI_1",
      address: "10.77.0.100",
      port: 80,
      driver: { type: "haproxy", backend },
      realServers: servers.map((s) => ({ ...s, port: 8080 })),
    }),
    () => "up",
  );

const table = (host: FakeHost) =>
  [...(host.backends.get("be") ?? [])].map(([name, s]) => `${name} ${s.address}:${s.port} w${s.weight} a${s.admin}`);

describe("the HAProxy driver against the fake host", () => {
  it("adds, weights, moves and retires servers, and deletes only those it added", async () => {
    const host = new FakeHost({ backends: { be: [{ name: "web1", address: "10.77.0.21", port: 8080 }] } });
    const driver = new HaproxyDriver(host.haproxy);
    await driver.sync([
      service([
        { name: "web1", address: "10.77.0.21", weight: 3 },
        { name: "web2", address: "10.77.0.22" },
      ]),
    ]);
    expect(table(host)).toEqual(["web1 10.77.0.21:8080 w3 a0", "web2 10.77.0.22:8080 w1 a0"]);
    expect([...driver.added]).toEqual(["be/web2"]);

    host.haproxyLines.length = 0;
    await driver.sync([service([{ name: "web1", address: "10.77.0.31", weight: 3 }])]);
    expect(host.haproxyLines.filter((l) => !l.startsWith("show"))).toEqual([
      "set server be/web1 addr 10.77.0.31 port 8080",
      "set server be/web2 state maint",
      "del server be/web2",
    ]);
    await driver.sync([service([])]);
    // web1 came from the config file: in maintenance, never deleted.
    expect(table(host)).toEqual(["web1 10.77.0.31:8080 w3 a1"]);
  });

  it("fails a sync on a backend HAProxy does not have, with its answer", async () => {
    const driver = new HaproxyDriver(new FakeHost().haproxy);
    await expect(driver.sync([service([{ name: "web1", address: "10.77.0.21" }], "nope")])).rejects.toThrow(
      /show servers state: Can't find backend/,
    );
  });
});
