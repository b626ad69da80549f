import { describe, expect, it } from "vitest";
import { hostPart } from "../../src/core/primitives.js";

describe("hostPart", () => {
  it.each([
    ["192.168.88.15/24", "192.168.88.15"],
    ["192.168.88.15", "192.168.88.15"],
    ["2001:DB8::1/64", "2001:0db8:0000:0000:0000:0000:0000:0001"],
    ["2001:db8:0:0::1", "2001:0db8:0000:0000:0000:0000:0000:0001"],
    ["::1", "0000:0000:0000:0000:0000:0000:0000:0001"],
    ["fe80::", "fe80:0000:0000:0000:0000:0000:0000:0000"],
    ["::ffff:192.168.1.2", "0000:0000:0000:0000:0000:ffff:c0a8:0102"],
    ["1:2:3:4:5:6:7:8", "0001:0002:0003:0004:0005:0006:0007:0008"],
  ])("%s -> %s", (input, expected) => {
    expect(hostPart(input)).toBe(expected);
  });

  it("makes differently written equal addresses agree", () => {
    expect(hostPart("2001:db8::a:1/128")).toBe(hostPart("2001:0DB8:0:0:0:0:A:1"));
  });
});
