/**
 * The agent's allowlist: what the control plane may have this host run. A path alone allows
 * any arguments; `args` allows exactly those; `argsPattern` one whole-argument match each.
 */
import { describe, expect, it } from "vitest";
import { type AllowEntry, Allowlist } from "../../host-agent/src/allowlist.js";
import { parseConfig } from "../../host-agent/src/config.js";

const list: AllowEntry[] = [
  "/usr/local/bin/check-any",
  { path: "/usr/local/bin/check-exact", args: ["--port", "80"] },
  { path: "/usr/local/bin/check-pattern", argsPattern: ["--port", "[0-9]{1,5}"] },
];

describe("the agent's allowlist", () => {
  it.each([
    ["a listed path with any arguments", "/usr/local/bin/check-any", ["-x", "y"], null],
    ["an unlisted program", "/bin/sh", ["-c", "id"], "/bin/sh is not in the agent's allowlist"],
    ["a listed path's prefix is not the path", "/usr/local/bin/check", [], "/usr/local/bin/check is not in"],
    ["the exact arguments", "/usr/local/bin/check-exact", ["--port", "80"], null],
    [
      "other arguments than the exact ones",
      "/usr/local/bin/check-exact",
      ["--port", "80", "; id"],
      'is in the agent\'s allowlist, but not with the arguments ["--port","80","; id"]',
    ],
    ["arguments matching the patterns", "/usr/local/bin/check-pattern", ["--port", "8080"], null],
    [
      "a pattern matches whole arguments only",
      "/usr/local/bin/check-pattern",
      ["--port", "80; id"],
      "but not with the arguments",
    ],
    ["one argument too few", "/usr/local/bin/check-pattern", ["--port"], "but not with the arguments"],
  ])("%s", (_name, path, args, refusal) => {
    const reason = new Allowlist(list).refusal({ path, args });
    if (refusal === null) expect(reason).toBeNull();
    else expect(reason).toContain(refusal);
  });

  it("describes each entry for check-config", () => {
    expect(new Allowlist(list).describe()).toEqual([
      "/usr/local/bin/check-any (any arguments)",
      '/usr/local/bin/check-exact with exactly ["--port","80"]',
      '/usr/local/bin/check-pattern with arguments matching ["--port","[0-9]{1,5}"]',
    ]);
  });

  it.each([
    [{ path: "relative" }, "allow[0].path: expected an absolute path"],
    [{ path: "/bin/x", args: [], argsPattern: [] }, "give args or argsPattern, not both"],
    [{ path: "/bin/x", argsPattern: ["(unclosed"] }, "expected a regular expression"],
  ])("refuses a bad entry in the config: %j", (entry, message) => {
    const text = JSON.stringify({ url: "https://vigil.example.test", cluster: "c", node: "lb1", allow: [entry] });
    expect(() => parseConfig("/etc/vigil/agent.json", text)).toThrow(message);
  });
});
