import { describe, expect, inject, it } from "vitest";
import { probe, userAgent } from "../../edge/probes.js";
import { Check } from "../../src/core/check.js";
import type { Target } from "../../src/core/targets.js";

const ports = inject("ports");
const who = { userAgent: userAgent("0.1.0", "weur") };

function target(port: number, check: Record<string, unknown>, address = "127.0.0.1"): Target {
  return {
    id: "svc/rs",
    address,
    port,
    observers: ["region:weur"],
    check: Check.parse({ name: "c", timeout: 1, interval: 5, observers: { regions: ["weur"] }, ...check }),
  };
}

describe("probes against loopback servers", () => {
  it.each<[string, () => Target, string, string | RegExp | null]>([
    ["http passes", () => target(ports.http, { type: "http", path: "/ok" }), "up", null],
    ["http wrong status", () => target(ports.http, { type: "http", path: "/status/503" }), "down", "status 503"],
    ["http body regex", () => target(ports.http, { type: "http", path: "/ok", bodyRegex: "^<h1>ok" }), "up", null],
    [
      "http wrong body",
      () => target(ports.http, { type: "http", path: "/ok", bodyRegex: "^maintenance" }),
      "down",
      "body does not match /^maintenance/",
    ],
    // genhash of "<h1>ok</h1>", the body the server sends.
    [
      "http digest",
      () => target(ports.http, { type: "http", path: "/ok", digest: "C6129991D6AE58ED9DB158F34DE0F6CB" }),
      "up",
      null,
    ],
    [
      "http digest mismatch",
      () => target(ports.http, { type: "http", path: "/ok", digest: "0".repeat(32) }),
      "down",
      "digest mismatch: c6129991d6ae58ed9db158f34de0f6cb",
    ],
    [
      "http required header",
      () => target(ports.http, { type: "http", path: "/ok", expectHeaders: { "x-served-by": "web1" } }),
      "up",
      null,
    ],
    [
      "http missing header",
      () => target(ports.http, { type: "http", path: "/ok", expectHeaders: { "x-cache": "" } }),
      "down",
      "header x-cache missing",
    ],
    [
      "http slow is degraded",
      () => target(ports.http, { type: "http", path: "/slow", degradedAbove: 0.05 }),
      "degraded",
      /^slow: \d+ ms$/,
    ],
    ["http timeout", () => target(ports.http, { type: "http", path: "/hang", timeout: 0.3 }), "down", "timeout"],
    ["http refused", () => target(ports.refused, { type: "http" }), "down", "refused"],
    [
      "https with a trusted certificate",
      () => target(ports.https, { type: "https", path: "/ok", tls: { serverName: "localhost" } }),
      "up",
      null,
    ],
    [
      "https with a self-signed certificate",
      () => target(ports.selfSigned, { type: "https", path: "/ok", tls: { serverName: "localhost" } }),
      "down",
      /^certificate: /,
    ],
    ["tcp connect", () => target(ports.tcp, { type: "tcp" }), "up", null],
    ["tcp send and expect", () => target(ports.tcp, { type: "tcp", send: "PING\r\n", expect: "PONG" }), "up", null],
    [
      "tcp unexpected reply",
      () => target(ports.tcp, { type: "tcp", send: "HELLO\r\n", expect: "PONG" }),
      "down",
      'reply "ERR unknown\r\n" does not start with "PONG"',
    ],
    ["tcp refused", () => target(ports.refused, { type: "tcp" }), "down", "refused"],
    [
      "tcp timeout waiting for a reply",
      () => target(ports.silent, { type: "tcp", send: "PING\r\n", expect: "PONG", timeout: 0.3 }),
      "down",
      "timeout",
    ],
    [
      "tls handshake with a trusted certificate",
      () => target(ports.https, { type: "tls", serverName: "localhost" }),
      "up",
      null,
    ],
    [
      "tls with a self-signed certificate",
      () => target(ports.selfSigned, { type: "tls", serverName: "localhost" }),
      "down",
      /^certificate: |^tls: /,
    ],
    [
      "tls timeout on a server that never handshakes",
      () => target(ports.silent, { type: "tls", serverName: "localhost", timeout: 0.3 }),
      "down",
      "timeout",
    ],
    ["smtp banner, EHLO and QUIT", () => target(ports.smtp, { type: "smtp" }), "up", null],
    [
      "smtp answering 554",
      () => target(ports.smtp554, { type: "smtp" }),
      "down",
      "banner answered 554 mx.test no service here",
    ],
    ["smtp refused", () => target(ports.refused, { type: "smtp" }), "down", "refused"],
  ])("%s", async (_name, make, state, reason) => {
    const result = await probe(make(), who);
    expect(result.state, JSON.stringify(result)).toBe(state);
    if (reason instanceof RegExp) expect(result.reason).toMatch(reason);
    else expect(result.reason).toBe(reason);
  });

  it("identifies itself and sends the configured Host header", async () => {
    const seen = await probe(
      target(ports.http, {
        type: "http",
        path: "/ok",
        host: "www.example.test",
        expectHeaders: { "x-user-agent": "vigil-probe/0.1.0 (region=weur)", "x-host": "www.example.test" },
      }),
      who,
    );
    expect(seen).toMatchObject({ state: "up", reason: null });
  });
});
