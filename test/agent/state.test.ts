import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StateStore } from "../../host-agent/src/state.js";

const dirs: string[] = [];
const fresh = () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "vigil-state-")), "lib");
  dirs.push(path.dirname(dir));
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("agent state", () => {
  it("starts empty and keeps the cursor, written 0600 in a 0700 directory with no temp file left", () => {
    const dir = fresh();
    const state = new StateStore(dir);
    expect(state.cursor()).toEqual({ seq: -1, epochs: {} });
    expect(state.identity()).toBeNull();
    state.saveCursor({ seq: 42, epochs: { VI_1: 3 } });
    expect(new StateStore(dir).cursor()).toEqual({ seq: 42, epochs: { VI_1: 3 } });
    expect(statSync(path.join(dir, "cursor.json")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual(["cursor.json"]);
  });

  it("names the file when what is stored is unreadable", () => {
    const dir = fresh();
    const state = new StateStore(dir);
    state.saveCursor({ seq: 1, epochs: {} });
    writeFileSync(path.join(dir, "cursor.json"), "{half a file");
    expect(() => state.cursor()).toThrow(path.join(dir, "cursor.json"));
  });
});

describe("outgoing sequence numbers", () => {
  it("only grow, across restarts, with one write per block", () => {
    const dir = fresh();
    const first = new StateStore(dir);
    const before = [first.nextOutSeq(), first.nextOutSeq(), first.nextOutSeq()];
    expect(before).toEqual([1, 2, 3]);
    const reserved = JSON.parse(readFileSync(path.join(dir, "out-seq.json"), "utf8")).reserved;
    expect(reserved).toBe(1001);
    const afterRestart = new StateStore(dir).nextOutSeq();
    expect(afterRestart).toBeGreaterThan(3);
    expect(afterRestart).toBe(1002);
  });
});
