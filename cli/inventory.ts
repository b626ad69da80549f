/**
 * Hosts to install on: an Ansible INI inventory (groups, `[group:children]`, `[group:vars]`,
 * `ansible_ssh_host` / `ansible_host`, `ansible_ssh_user` / `ansible_user`, `ansible_port` /
 * `ansible_ssh_port`), or `[node=][user@]address[:port]` words from the command line. Errors
 * name the file and line.
 */
export interface InstallHost {
  /** The node name in the cluster: the inventory alias, or the address. */
  node: string;
  address: string;
  port: number;
  user?: string;
}

export class InventoryError extends Error {}

const NODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

interface Section {
  hosts: Map<string, Record<string, string>>;
  children: string[];
  vars: Record<string, string>;
}

/** The older ansible_ssh_* names mean the same: a host's own setting beats its group's under either name. */
const ALIAS: Record<string, string> = {
  ansible_ssh_host: "ansible_host",
  ansible_ssh_user: "ansible_user",
  ansible_ssh_port: "ansible_port",
};

/** `key=value` pairs after a host name; values may be quoted. */
function pairs(words: string[], file: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq <= 0) throw new InventoryError(`${file}:${line}: expected key=value, got "${word}"`);
    const key = word.slice(0, eq);
    out[ALIAS[key] ?? key] = word.slice(eq + 1).replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

function split(text: string): string[] {
  return text.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
}

export function parseInventory(text: string, file: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  const section = (name: string) => {
    let s = sections.get(name);
    if (!s) {
      s = { hosts: new Map(), children: [], vars: {} };
      sections.set(name, s);
    }
    return s;
  };
  let current = "ungrouped";
  let kind: "hosts" | "children" | "vars" = "hosts";
  text.split("\n").forEach((raw, i) => {
    const line = i + 1;
    const content = raw.replace(/\s[#;].*$/, "").trim();
    if (content === "" || content.startsWith("#") || content.startsWith(";")) return;
    const header = content.match(/^\[([^\]:]+)(?::(children|vars))?\]$/);
    if (header) {
      current = header[1] ?? "";
      kind = (header[2] as "children" | "vars" | undefined) ?? "hosts";
      section(current);
      return;
    }
    if (content.startsWith("[")) throw new InventoryError(`${file}:${line}: malformed section header "${content}"`);
    const words = split(content);
    if (kind === "children") section(current).children.push(content);
    else if (kind === "vars") Object.assign(section(current).vars, pairs(words, file, line));
    else {
      const [host = "", ...rest] = words;
      if (/\[\d+:\d+\]/.test(host))
        throw new InventoryError(`${file}:${line}: host ranges like "${host}" are not supported: list the hosts`);
      section(current).hosts.set(host, pairs(rest, file, line));
    }
  });
  return sections;
}

/** Every host in the named groups (all when none), with group and child-group variables applied. */
export function inventoryHosts(text: string, file: string, groups: string[] = []): InstallHost[] {
  const sections = parseInventory(text, file);
  for (const g of groups)
    if (!sections.has(g) && g !== "all") throw new InventoryError(`${file}: no group "${g}" in the inventory`);
  const found = new Map<string, Record<string, string>>();
  const visit = (name: string, inherited: Record<string, string>, seen: Set<string>) => {
    const s = sections.get(name);
    if (!s || seen.has(name)) return;
    seen.add(name);
    const vars = { ...inherited, ...s.vars };
    for (const [host, own] of s.hosts) found.set(host, { ...vars, ...(found.get(host) ?? {}), ...own });
    for (const child of s.children) visit(child, vars, seen);
  };
  const roots = groups.length === 0 || groups.includes("all") ? [...sections.keys()] : groups;
  for (const g of roots) visit(g, sections.get("all")?.vars ?? {}, new Set());
  return [...found].map(([alias, vars]) => {
    return toHost(alias, vars.ansible_host ?? alias, vars.ansible_port, vars.ansible_user, file);
  });
}

function toHost(node: string, address: string, port: string | undefined, user: string | undefined, where: string) {
  if (!NODE.test(node))
    throw new InventoryError(`${where}: "${node}" is not a valid node name (letters, digits, '_', '.', '-')`);
  const p = port === undefined ? 22 : Number(port);
  if (!Number.isInteger(p) || p < 1 || p > 65535)
    throw new InventoryError(`${where}: ${node}: port "${port}" is not a port number`);
  return { node, address, port: p, ...(user ? { user } : {}) };
}

/** `[node=][user@]address[:port]`, IPv6 in brackets: `lb1=root@[fd00::1]:2222`. */
export function parseHostWord(word: string): InstallHost {
  const m = word.match(/^(?:([^=@]+)=)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/);
  if (!m) throw new InventoryError(`host "${word}": expected [node=][user@]address[:port]`);
  const address = (m[3] ?? "").replace(/^\[|\]$/g, "");
  return toHost(m[1] ?? address, address, m[4], m[2], `host "${word}"`);
}
