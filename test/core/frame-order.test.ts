import { describe, expect, it } from "vitest";
import { toBase64url } from "../../src/core/base64url.js";
import { newKeyPair, seal } from "../../src/core/envelope.js";
import { FrameOrder, peekSeq } from "../../src/core/frame-order.js";

/**
 * Feeds seqs arriving 1 ms apart (`t` lets 100 ms pass) and answers what went on after each
 * arrival, as a string: "5 6" is seq 5 then 6 handled then, "-" nothing.
 */
function run(arrivals: (number | "t")[], waitMs = 50): string[] {
  const order = new FrameOrder<number>(waitMs);
  let now = 0;
  return arrivals.map((a) => {
    now += a === "t" ? 100 : 1;
    const out = a === "t" ? order.due(now) : order.arrive(a, a, now);
    return out.length === 0 ? "-" : out.join(" ");
  });
}

describe("frame order", () => {
  it.each<[string, (number | "t")[], string[]]>([
    ["in order goes straight on", [1, 2, 3], ["1", "2", "3"]],
    ["the first frame sets where it starts", [7, 8], ["7", "8"]],
    ["a swapped pair is put back", [1, 3, 2], ["1", "-", "2 3"]],
    ["several held frames follow the one that fills the gap", [1, 4, 3, 2, 5], ["1", "-", "-", "2 3 4", "5"]],
    ["a gap that never fills lets the held frames on after the wait", [1, 3, 4, "t", 5], ["1", "-", "-", "3 4", "5"]],
    ["the late frame after the wait goes on, to be refused as a replay", [1, 3, "t", 2], ["1", "-", "3", "2"]],
    ["a replayed seq is not held", [1, 2, 1], ["1", "2", "1"]],
    ["nothing is due before the wait", [1, 3], ["1", "-"]],
    ["held frames go on in the order of their seq, as numbers", [1, 10, 3, "t"], ["1", "-", "-", "3 10"]],
    ["after the wait, it goes on from the highest frame let through", [1, 3, "t", 4], ["1", "-", "3", "4"]],
    ["a replay does not move where it goes on from", [3, 1, 4], ["3", "1", "4"]],
    ["time passing with nothing held changes nothing", ["t", 5, 6], ["-", "5", "6"]],
  ])("%s", (_name, arrivals, expected) => {
    expect(run(arrivals)).toEqual(expected);
  });

  it("lets a frame whose seq cannot be read go on at once", () => {
    const order = new FrameOrder<string>(50);
    expect(order.arrive(1, "a", 0)).toEqual(["a"]);
    expect(order.arrive(3, "c", 1)).toEqual([]);
    expect(order.arrive(null, "junk", 2)).toEqual(["junk"]);
    expect(order.dueAt()).toBe(51);
    expect(order.due(50)).toEqual([]);
    expect(order.due(51)).toEqual(["c"]);
    expect(order.dueAt()).toBeNull();
  });

  it("waits for nothing once a gap is filled", () => {
    const order = new FrameOrder<number>(50);
    order.arrive(1, 1, 0);
    order.arrive(3, 3, 1);
    expect(order.dueAt()).toBe(51);
    expect(order.arrive(2, 2, 2)).toEqual([2, 3]);
    expect(order.dueAt()).toBeNull();
  });

  it("looks for the seq only in the head of the payload", () => {
    const frame = (json: object) => `v1.k.${toBase64url(new TextEncoder().encode(JSON.stringify(json)))}.sig`;
    expect(peekSeq(frame({ v: 1, seq: 5 }))).toBe(5);
    expect(peekSeq(frame({ v: 1, pad: "p".repeat(600), seq: 5 }))).toBeNull();
  });

  it("reads the seq of a sealed frame without decoding its command", async () => {
    const { privateKey } = await newKeyPair();
    const votes = Array.from({ length: 500 }, (_, i) => ({
      target: `web/w${i}`,
      state: "up" as const,
      since: 1,
      latencyMs: 1,
      error: null,
      probes: 1,
      failures: 0,
    }));
    const name = "n".repeat(64);
    // Built with its command first: seal writes the fields in the schema's order whatever the caller's.
    const frame = await seal(
      {
        command: { type: "votes", heartbeat: true, votes },
        v: 1,
        kid: `agent:${"k".repeat(58)}`,
        cluster: name,
        agent: name,
        id: "i".repeat(64),
        seq: 9_007_199_254_740,
        epoch: 0,
        issuedAt: 1,
        notAfter: 2,
      },
      privateKey,
    );
    expect(frame.length).toBeGreaterThan(50_000);
    expect(peekSeq(frame)).toBe(9_007_199_254_740);
  });

  it("reads the seq a frame claims, and null from what is not a frame", () => {
    const payload = toBase64url(new TextEncoder().encode(JSON.stringify({ v: 1, seq: 42 })));
    expect(peekSeq(`v1.agent:lb1.${payload}.sig`)).toBe(42);
    expect(peekSeq("v1.agent:lb1.!!.sig")).toBeNull();
    expect(peekSeq("hello")).toBeNull();
    const text = toBase64url(new TextEncoder().encode(JSON.stringify({ seq: "42" })));
    expect(peekSeq(`v1.k.${text}.s`)).toBeNull();
  });
});
