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

  it("agrees with Node's own base64 and base64url on random bytes of every length to 300", () => {
    for (let n = 0; n <= 300; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      const node = Buffer.from(bytes);
      expect(toBase64(bytes)).toBe(node.toString("base64"));
      expect(toBase64url(bytes)).toBe(node.toString("base64url"));
      expect(Buffer.from(fromBase64url(node.toString("base64url"))).equals(node)).toBe(true);
    }
  });

  it.each(["a+b", "a/b", "ab==", " ab", "ab ", "a.b", "a", "abcde", "ab\u0080c", "ab\u00e9c", "ab\u{1f600}"])(
    "refuses %j",
    (text) => {
      expect(() => fromBase64url(text)).toThrow(new Error("not base64url"));
    },
  );
});
