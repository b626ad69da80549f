import { describe, expect, it } from "vitest";
import { parseConfig } from "../../host-agent/src/config.js";

const good = {
  url: "https://vigil.example.test",
  cluster: "classic-lvs",
  node: "lb1",
};

describe("agent configuration", () => {
  it("fills defaults", () => {
    expect(parseConfig("/etc/vigil/agent.json", JSON.stringify(good))).toEqual({
      ...good,
      stateDir: "/var/lib/vigil",
      heartbeat: 10,
      logLevel: "info",
      allow: [],
      hooks: [],
      peerPort: 7441,
      hostActions: "apply",
      haproxySocket: "/run/haproxy/admin.sock",
    });
  });

  it.each([
    [
      "a bad URL",
      { ...good, url: "ftp://x" },
      "/etc/vigil/agent.json:2: url: expected the control plane's http(s) URL",
    ],
    ["an unknown field", { ...good, nodes: "lb2" }, "/etc/vigil/agent.json:5: nodes: unknown field"],
    [
      "a node name with a space",
      { ...good, node: "lb 1" },
      "/etc/vigil/agent.json:4: node: expected a name of 1-64 letters",
    ],
    [
      "a relative state dir",
      { ...good, stateDir: "state" },
      "/etc/vigil/agent.json:5: stateDir: expected an absolute path",
    ],
    [
      "a relative notify hook",
      { ...good, hooks: ["notify.sh"] },
      "/etc/vigil/agent.json:6: hooks[0]: expected an absolute path",
    ],
    ["a missing cluster", { url: good.url, node: "lb1" }, "/etc/vigil/agent.json: cluster: "],
  ])("refuses %s with file, line, field and reason", (_name, value, message) => {
    expect(() => parseConfig("/etc/vigil/agent.json", JSON.stringify(value, null, 2))).toThrow(message);
  });

  it("names the line of a JSON syntax error", () => {
    const text = '{\n  "url": "https://vigil.example.test",\n  "cluster": "c",,\n  "node": "lb1"\n}';
    expect(() => parseConfig("/etc/vigil/agent.json", text)).toThrow(/^\/etc\/vigil\/agent\.json:3: not valid JSON/);
  });
});
