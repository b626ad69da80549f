import { describe, expect, it } from "vitest";
import { Check } from "../../src/core/check.js";
import { judgeHttp } from "../../src/core/checks/http/judge.js";
import { connectionFailure, slowness } from "../../src/core/checks/judging.js";
import { judgeSmtpStep, SMTP_STEPS, smtpReply } from "../../src/core/checks/smtp/judge.js";
import { judgeTcpReply } from "../../src/core/checks/tcp/judge.js";

const http = (extra: object) =>
  Check.parse({ name: "h", type: "http", observers: { regions: ["weur"] }, ...extra }) as Extract<
    Check,
    { type: "http" }
  >;
const seen = {
  status: 200,
  headers: { "content-type": "text/html; charset=utf-8" },
  body: "<h1>ok</h1>",
  md5: "9b3a0c85a887a256d6939da88aabd8cd",
  latencyMs: 12,
};

describe("judgeHttp", () => {
  it.each<[string, object, object, string, string | null]>([
    ["expected status", {}, {}, "up", null],
    ["unexpected status", {}, { status: 503 }, "down", "status 503"],
    ["one of several statuses", { expectStatus: [200, 204] }, { status: 204 }, "up", null],
    ["missing header", { expectHeaders: { "X-Served-By": "" } }, {}, "down", "header X-Served-By missing"],
    [
      "header with the wrong value",
      { expectHeaders: { "Content-Type": "json" } },
      {},
      "down",
      'header Content-Type is "text/html; charset=utf-8"',
    ],
    ["header matched in any case", { expectHeaders: { "Content-Type": "TEXT/HTML" } }, {}, "up", null],
    ["body regex", { bodyRegex: "<h1>o+k" }, {}, "up", null],
    ["body regex that fails", { bodyRegex: "^OK$" }, {}, "down", "body does not match /^OK$/"],
    ["digest", { digest: "9B3A0C85A887A256D6939DA88AABD8CD" }, {}, "up", null],
    [
      "digest mismatch",
      { digest: "00000000000000000000000000000000" },
      {},
      "down",
      "digest mismatch: 9b3a0c85a887a256d6939da88aabd8cd",
    ],
    ["slow", { degradedAbove: 0.01 }, {}, "degraded", "slow: 12 ms"],
    ["status wins over slowness", { degradedAbove: 0.01 }, { status: 500 }, "down", "status 500"],
  ])("%s", (_name, config, observed, state, reason) => {
    expect(judgeHttp(http(config), { ...seen, ...observed })).toMatchObject({ state, reason });
  });
});

describe("judgeTcpReply and smtpReply", () => {
  it("checks a banner prefix", () => {
    expect(judgeTcpReply("+OK", "+OK ready\r\n", 3).state).toBe("up");
    expect(judgeTcpReply("+OK", "-ERR busy", 3)).toMatchObject({
      state: "down",
      reason: 'reply "-ERR busy" does not start with "+OK"',
    });
    expect(judgeTcpReply(undefined, "", 3).state).toBe("up");
  });

  it("reads SMTP replies once their last line is complete", () => {
    expect(smtpReply("220 mx ready\r\n")).toEqual({ code: 220, line: "220 mx ready" });
    expect(smtpReply("250-mx\r\n250-PIPELINING\r\n")).toBeNull();
    expect(smtpReply("250-mx\r\n250 SIZE 1000\r\n")).toEqual({ code: 250, line: "250 SIZE 1000" });
    expect(smtpReply("554 no")).toBeNull();
    // A code alone on its line is a last line; a code glued to text is not a reply.
    expect(smtpReply("250\r\n")).toEqual({ code: 250, line: "250" });
    expect(smtpReply("x250 ok\r\n2500 no\r\n")).toBeNull();
  });

  it("judges each SMTP step by the code keepalived's SMTP_CHECK expects", () => {
    const [banner, ehlo, quit] = SMTP_STEPS;
    expect(SMTP_STEPS.map((s) => [s.step, s.expect])).toEqual([
      ["banner", 220],
      ["EHLO", 250],
      ["QUIT", 221],
    ]);
    expect(judgeSmtpStep(banner, { code: 220, line: "220 mx" })).toBeNull();
    expect(judgeSmtpStep(ehlo, { code: 550, line: "550 go away" })).toBe("EHLO answered 550 go away");
    expect(judgeSmtpStep(quit, { code: 250, line: `250 ${"x".repeat(100)}` })).toBe(
      `QUIT answered 250 ${"x".repeat(75)}…`,
    );
  });
});

describe("slowness", () => {
  it.each<[number | undefined, number, string, string | null]>([
    [undefined, 99_000, "up", null],
    [0.5, 500, "up", null],
    [0.5, 500.4, "degraded", "slow: 500 ms"],
    [0.5, 20, "up", null],
  ])("with a limit of %s s, %s ms is %s", (limit, ms, state, reason) => {
    expect(slowness(limit, ms)).toEqual({ state, reason, latencyMs: ms });
  });
});

describe("connectionFailure", () => {
  it.each([
    ["connect ECONNREFUSED 127.0.0.1:9", "refused"],
    ["The operation was aborted due to timeout", "timeout"],
    [
      "TLS peer's certificate is not trusted; reason = self signed certificate",
      "certificate: TLS peer's certificate is not trusted; reason = self signed certificate",
    ],
    ["connect timed out", "timeout"],
    ["read timedout", "timeout"],
    ["socket time out", "timeout"],
    ["unable to verify the first certificate", "certificate: unable to verify the first certificate"],
    ["self-signed chain", "certificate: self-signed chain"],
    ["x509: unknown authority", "certificate: x509: unknown authority"],
    ["TLS handshake failed", "tls: TLS handshake failed"],
    ["ssl alert 40", "tls: ssl alert 40"],
    ["socket hang up", "socket hang up"],
  ])("%s -> %s", (message, reason) => {
    expect(connectionFailure(new Error(message))).toBe(reason);
  });

  it("reads a thrown value that is not an Error, and cuts long messages with an ellipsis", () => {
    expect(connectionFailure("ECONNREFUSED")).toBe("refused");
    expect(connectionFailure("y".repeat(160))).toBe("y".repeat(160));
    expect(connectionFailure("y".repeat(161))).toBe(`${"y".repeat(159)}…`);
    expect(connectionFailure(`handshake ${"z".repeat(200)}`)).toBe(
      `tls: ${`handshake ${"z".repeat(200)}`.slice(0, 119)}…`,
    );
  });
});
