import { describe, expect, it } from "vitest";
import { InventoryError, inventoryHosts, parseHostWord } from "../../cli/inventory.js";

const INVENTORY = `# directors
[directors]
lb1 ansible_ssh_host=10.0.0.11 ansible_ssh_user=admin
lb2 ansible_host=10.0.0.12 ansible_port=2222 ; a comment

[edge]
lb3 ansible_ssh_host="10.0.0.13"

[lvs:children]
directors
edge

[lvs:vars]
ansible_user=ops

[web]
web1
`;

describe("Ansible INI inventory", () => {
  it("reads groups, children and variables, the host's own winning", () => {
    expect(inventoryHosts(INVENTORY, "hosts.ini", ["lvs"])).toEqual([
      { node: "lb1", address: "10.0.0.11", port: 22, user: "admin" },
      { node: "lb2", address: "10.0.0.12", port: 2222, user: "ops" },
      { node: "lb3", address: "10.0.0.13", port: 22, user: "ops" },
    ]);
    expect(inventoryHosts(INVENTORY, "hosts.ini", ["web"])).toEqual([{ node: "web1", address: "web1", port: 22 }]);
    expect(inventoryHosts(INVENTORY, "hosts.ini").map((h) => h.node)).toEqual(["lb1", "lb2", "lb3", "web1"]);
  });

  it.each([
    ["[directors\nlb1", "hosts.ini:1: malformed section header"],
    ["[d]\nlb1 ansible_port", 'hosts.ini:2: expected key=value, got "ansible_port"'],
    ["[d]\nlb[1:3]", 'hosts.ini:2: host ranges like "lb[1:3]" are not supported'],
    ["[d]\nlb1 ansible_port=http", 'hosts.ini: lb1: port "http" is not a port number'],
  ])("refuses %j with file and line", (text, message) => {
    expect(() => inventoryHosts(text, "hosts.ini")).toThrow(message);
  });

  it("names a group that is not there", () => {
    expect(() => inventoryHosts(INVENTORY, "hosts.ini", ["nope"])).toThrow(InventoryError);
  });
});

describe("hosts on the command line", () => {
  it.each([
    ["10.0.0.11", { node: "10.0.0.11", address: "10.0.0.11", port: 22 }],
    ["lb1=root@10.0.0.11:2222", { node: "lb1", address: "10.0.0.11", port: 2222, user: "root" }],
    ["lb6=[fd00::6]:22", { node: "lb6", address: "fd00::6", port: 22 }],
  ])("%s", (word, host) => {
    expect(parseHostWord(word)).toEqual(host);
  });

  it("refuses a bad node name", () => {
    expect(() => parseHostWord("-x=10.0.0.1")).toThrow(/not a valid node name/);
  });
});
