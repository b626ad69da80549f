/**
 * The HAProxy importer: frontend + backend pairs and listen sections become virtual services
 * with the haproxy driver, in the VIP group (from the keepalived import) that holds their bind
 * address, with http or tcp checks run by that group's directors; the merged document passes
 * the API's validation, and what cannot be carried over is listed with file:line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { importHaproxyCommand } from "../../cli/import.js";
import { importHaproxy, seconds } from "../../cli/importers/haproxy.js";
import { importKeepalived } from "../../cli/importers/keepalived.js";
import { ClusterDocument, validateCluster } from "../../src/core/cluster.js";

const corpus = path.join(import.meta.dirname, "keepalived/lvs-dr-pair");
const cfg = path.join(import.meta.dirname, "haproxy-import/haproxy.cfg");

describe("HAProxy import", () => {
  const base = importKeepalived([path.join(corpus, "lb1.conf"), path.join(corpus, "lb2.conf")], { cluster: "shop" });
  const { document, notes } = importHaproxy(cfg, base.document);

  it("turns backends and listen sections into haproxy-driven virtual services", () => {
    const services = (document.virtualServices as { name: string }[]).filter((s) => s.name !== "192.168.88.15-80");
    expect(services).toEqual([
      {
        name: "web",
        vipGroup: "VI_1",
        address: "192.168.88.15",
        port: 8000,
        scheduler: "wrr",
        forwarding: "nat",
        driver: { type: "haproxy", backend: "web" },
        realServers: [
          { name: "web1", address: "192.168.88.21", port: 8080, weight: 3, check: "web-web1" },
          { name: "web2", address: "192.168.88.22", port: 8080, weight: 1, check: "web-web2" },
          { name: "spare", address: "192.168.88.23", port: 8080, weight: 0 },
        ],
      },
      {
        name: "mysql",
        vipGroup: "VI_1",
        address: "192.168.88.15",
        port: 3306,
        scheduler: "wlc",
        forwarding: "nat",
        driver: { type: "haproxy", backend: "mysql" },
        realServers: [
          { name: "db1", address: "192.168.88.31", port: 3306, weight: 1, check: "mysql-db1" },
          { name: "db2", address: "192.168.88.32", port: 3306, weight: 1, check: "mysql-db2" },
        ],
      },
    ]);
    const checks = document.checks as { name: string }[];
    expect(checks.find((c) => c.name === "web-web1")).toEqual({
      name: "web-web1",
      type: "http",
      path: "/healthz",
      expectStatus: [200],
      interval: 2,
      timeout: 1,
      rise: 2,
      fall: 3,
      observers: { agents: ["lb1", "lb2"] },
    });
    expect(checks.find((c) => c.name === "mysql-db1")).toMatchObject({ type: "tcp", interval: 1, rise: 2, fall: 3 });
  });

  it("lists what it could not carry over, with file and line", () => {
    expect(notes.map((n) => `${path.basename(n.at.file)}:${n.at.line}: ${n.message}`)).toEqual([
      "haproxy.cfg:17: server spare backup: imported as a normal server (Vigil has a sorry server per service instead)",
      "haproxy.cfg:26: backend orphan: no bind address (no listen bind or frontend default_backend); not imported",
    ]);
  });

  it("refuses to merge into a file that is not a cluster document, naming the field", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vigil-ha-"));
    try {
      const into = path.join(dir, "doc.json");
      writeFileSync(
        into,
        JSON.stringify({ cluster: { name: "c" }, vipGroups: [{ name: "VI_1", vips: [], members: [] }] }),
      );
      expect(() => importHaproxyCommand(cfg, into, undefined, () => undefined)).toThrow(
        /doc\.json: not a cluster document: vipGroups\[0\]\.vips: a VIP group needs at least one VIP/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives a document the API's validation accepts", () => {
    const parsed = ClusterDocument.safeParse(document);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    if (parsed.success) expect(validateCluster(parsed.data)).toEqual([]);
  });

  it.each([
    ["2000", 2],
    ["2s", 2],
    ["500ms", 0.5],
    ["1m", 60],
  ])("reads HAProxy time %s as %d s", (text, s) => {
    expect(seconds(text)).toBe(s);
  });
});
