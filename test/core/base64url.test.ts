/** base64url without padding, both ways, and what it refuses. */
import { describe, expect, it } from "vitest";
import { fromBase64url, toBase64, toBase64url } from "../../src/core/base64url.js";

describe("base64url", () => {
  it("round-trips every length of a block and its remainders", () => {
    for (let n = 0; n <= 7; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => 250 + i);
      const text = toBase64url(bytes);
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect([...fromBase64url(text)]).toEqual([...bytes]);
    }
  });

  it("writes '-' and '_' where base64 has '+' and '/', without padding", () => {
    expect(toBase64(Uint8Array.of(0xfb, 0xff))).toBe("+/8=");
    expect(toBase64url(Uint8Array.of(0xfb, 0xff))).toBe("-_8");
  });

  it.each(["a+b", "a/b", "ab==", " ab", "ab ", "a.b"])("refuses %j", (text) => {
    expect(() => fromBase64url(text)).toThrow(new Error("not base64url"));
  });
});
