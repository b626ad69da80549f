/** Token and enrollment inputs: their bounds, defaults and refusals, and the names the OpenAPI document gives them. */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { toBase64url } from "../../src/core/base64url.js";
import {
  ApiToken,
  ApiTokenInput,
  Enrollment,
  EnrollmentToken,
  EnrollmentTokenInput,
  EnrollRequest,
} from "../../src/core/token.js";

const KEY = "E5j2LG0aRXxRumpLXz29L2n8qTIWIY3ImX5Ba9F9k8o";
const messages = (r: { success: boolean; error?: z.ZodError }) =>
  r.success ? [] : (r.error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);

describe("token inputs", () => {
  it("an API token: a name and a role, the description empty unless given", () => {
    expect(ApiTokenInput.parse({ name: "ci", role: "read" })).toEqual({ name: "ci", role: "read", description: "" });
    expect(ApiTokenInput.safeParse({ name: "ci", role: "root" }).success).toBe(false);
    expect(ApiTokenInput.safeParse({ name: "ci", role: "admin", extra: 1 }).success).toBe(false);
  });

  it.each<[number | undefined, boolean, number?]>([
    [undefined, true, 3600],
    [59, false],
    [60, true, 60],
    [604800, true, 604800],
    [604801, false],
    [90.5, false],
  ])("an enrollment token lives 1 minute to 7 days: ttl %s", (ttl, ok, parsed) => {
    const r = EnrollmentTokenInput.safeParse({ node: "lb1", ...(ttl === undefined ? {} : { ttl }) });
    expect(r.success).toBe(ok);
    if (ok) expect(r.data?.ttl).toBe(parsed);
  });
});

describe("an enrollment request", () => {
  const request = (over: Record<string, unknown>) =>
    EnrollRequest.safeParse({ token: "vge_0123456789", node: "lb1", publicKey: KEY, ...over });

  it("takes a real public key and a token of a sane length", () => {
    expect(request({}).success).toBe(true);
    expect(request({ token: "x".repeat(10) }).success).toBe(true);
    expect(request({ token: "x".repeat(200) }).success).toBe(true);
    expect(request({ token: "x".repeat(9) }).success).toBe(false);
    expect(request({ token: "x".repeat(201) }).success).toBe(false);
  });

  it.each([
    ["all zeros", toBase64url(new Uint8Array(32))],
    ["the identity point", toBase64url(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0)))],
  ])("refuses the weak key %s, saying why", (_name, publicKey) => {
    expect(messages(request({ publicKey }))).toEqual(["publicKey: expected a real Ed25519 public key, not a weak one"]);
  });

  it("refuses what is not 32 bytes of base64url, saying what it expected", () => {
    for (const publicKey of [KEY.slice(1), `${KEY}A`, `${KEY.slice(1)}+`])
      expect(messages(request({ publicKey }))).toEqual([
        "publicKey: expected a 32-byte Ed25519 public key in base64url",
      ]);
  });
});

describe("the names the API document gives them", () => {
  it.each<[string, z.ZodType]>([
    ["ApiTokenInput", ApiTokenInput],
    ["ApiToken", ApiToken],
    ["EnrollmentTokenInput", EnrollmentTokenInput],
    ["EnrollmentToken", EnrollmentToken],
    ["EnrollRequest", EnrollRequest],
    ["Enrollment", Enrollment],
  ])("%s", (id, schema) => {
    expect(z.globalRegistry.get(schema)?.id).toBe(id);
  });
});
