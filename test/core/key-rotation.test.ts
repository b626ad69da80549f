import { describe, expect, it } from "vitest";
import { rotations } from "../../src/core/key-rotation.js";

const key = (kid: string) => ({ kid, publicKey: `${kid.padEnd(43, "A")}`.slice(0, 43) });
const rotate = (kid: string, retire: string[] = []) => ({
  type: "key.rotate",
  kid,
  publicKey: key(kid).publicKey,
  retire,
});

describe("coordinator keys brought in line with what an agent pins", () => {
  it.each<[string, string[], string[], ReturnType<typeof rotate>[]]>([
    ["nothing to do when it pins exactly what is offered", ["k1", "k2"], ["k2", "k1"], []],
    ["a new key offered second is pinned", ["k1", "k2"], ["k1"], [rotate("k2")]],
    [
      "several new keys, the old retired with the last",
      ["k1", "k2", "k3"],
      ["k1", "k0"],
      [rotate("k2"), rotate("k3", ["k0"])],
    ],
    ["a key no longer offered is retired under the signing key", ["k2"], ["k1", "k2"], [rotate("k2", ["k1"])]],
    ["nothing offered, nothing sent", [], ["k1"], []],
  ])("%s", (_name, offered, pinned, commands) => {
    expect(rotations(offered.map(key), pinned)).toEqual({ commands, problem: null });
  });

  it("sends nothing to an agent that does not pin the signing key, and says why", () => {
    expect(rotations([key("k2"), key("k1")], ["k1"])).toEqual({
      commands: [],
      problem: "it does not pin the signing key k2 (it pins k1): put a key it pins first until it has pinned k2",
    });
    expect(rotations([key("k2")], []).problem).toBe(
      "it does not pin the signing key k2 (it pins nothing): put a key it pins first until it has pinned k2",
    );
  });

  it("retires at most eight ids at once", () => {
    const pinned = ["k1", ...Array.from({ length: 10 }, (_, i) => `old${i}`)];
    const [only] = rotations([key("k1")], pinned).commands;
    expect(only?.retire).toEqual(pinned.slice(1, 9));
  });
});
