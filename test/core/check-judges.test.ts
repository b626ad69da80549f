import { describe, expect, it } from "vitest";
import { Check } from "../../src/core/check.js";
import { judgeHttp } from "../../src/core/checks/http/judge.js";
import { connectionFailure } from "../../src/core/checks/judging.js";
import { smtpReply } from "../../src/core/checks/smtp/judge.js";
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
  ])("%s -> %s", (message, reason) => {
    expect(connectionFailure(new Error(message))).toBe(reason);
  });
});
