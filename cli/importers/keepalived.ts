/**
 * keepalived.conf to a Vigil cluster document. Each configuration is one director; several
 * (MASTER on one, BACKUP on the other) merge into one cluster with every member and its
 * priority. What cannot be carried over is listed with file:line and why.
 */
import path from "node:path";
import type {
  ClusterDocumentInput,
  RealServerInput,
  SyncGroupInput,
  VirtualServiceInput,
} from "../../src/core/cluster.js";
import { DEFAULT_PEER_PORT, PROTOCOLS, SCHEDULERS } from "../../src/core/vocabulary.js";
import {
  type CheckDraft,
  exec,
  FORWARDING,
  type Group,
  type ImportedType,
  ident,
  isOneOf,
  NOTIFY,
  type Notify,
  num,
  type ServiceDraft,
  toCheck,
} from "./keepalived-drafts.js";
import { parseFile, type Stmt, type Where } from "./keepalived-syntax.js";

export interface Note {
  at: Where;
  message: string;
}

export class Importer {
  readonly notes: Note[] = [];
  private readonly nodes: { name: string; address: string; at: Where }[] = [];
  private readonly checks = new Map<string, CheckDraft>();
  private readonly groups = new Map<string, Group>();
  private readonly syncGroups = new Map<string, SyncGroupInput & { vipGroups: string[]; notify: Notify }>();
  private readonly services = new Map<string, ServiceDraft>();

  private note(at: Where, message: string): void {
    this.notes.push({ at, message });
  }

  /** One director's keepalived.conf (its includes followed). */
  addDirector(file: string, addresses: Record<string, string> = {}): void {
    const stmts = parseFile(file);
    const defs = stmts.find((s) => s.key === "global_defs");
    const routerId = defs?.block?.find((s) => s.key === "router_id")?.args[0];
    const node = ident(
      routerId ??
        path
          .basename(file)
          .replace(/\.conf$/, "")
          .replace(/^keepalived[-_.]?/, "") ??
        "lb",
    );
    const unicast = stmts
      .flatMap((s) => (s.key === "vrrp_instance" ? (s.block ?? []) : []))
      .find((s) => s.key === "unicast_src_ip")?.args[0];
    const address = addresses[node] ?? unicast;
    const at = defs?.at ?? { file, line: 1, col: 1 };
    if (!address)
      this.note(
        at,
        `node ${node}: keepalived.conf does not say its address (no unicast_src_ip); 192.0.2.x is a placeholder to replace`,
      );
    this.nodes.push({ name: node, address: address ?? `192.0.2.${this.nodes.length + 1}`, at });
    for (const s of stmts) this.top(s, node);
  }

  private top(s: Stmt, node: string): void {
    const handlers: Record<string, (s: Stmt, node: string) => void> = {
      global_defs: (x) => this.globalDefs(x),
      vrrp_script: (x, n) => this.vrrpScript(x, n),
      vrrp_instance: (x, n) => this.vrrpInstance(x, n),
      vrrp_sync_group: (x) => this.syncGroup(x),
      virtual_server: (x, n) => this.virtualServer(x, n),
    };
    const handle = handlers[s.key];
    if (handle) handle(s, node);
    else this.note(s.at, `${s.key}: not carried over (Vigil has no equivalent)`);
  }

  private globalDefs(s: Stmt): void {
    for (const d of s.block ?? []) {
      if (d.key === "router_id") continue; // The node's name.
      if (d.key === "notification_email" || d.key === "notification_email_from" || d.key === "smtp_server") {
        this.note(
          d.at,
          `${d.key}: Vigil sends alerts by webhook; create one with POST /v1/webhooks (email through your own relay)`,
        );
      } else this.note(d.at, `global_defs ${d.key}: not carried over`);
    }
  }

  private vrrpScript(s: Stmt, node: string): void {
    const name = ident(s.args[0] ?? "script");
    const check: CheckDraft = { name, type: "script", agents: [], rise: 1, fall: 1, interval: 1 };
    for (const d of s.block ?? []) {
      if (d.key === "script") check.exec = exec(d.args);
      else if (d.key === "interval") check.interval = num(d);
      else if (d.key === "timeout") check.timeout = num(d);
      else if (d.key === "rise") check.rise = num(d);
      else if (d.key === "fall") check.fall = num(d);
      else if (d.key === "weight") check.weight = num(d);
      else if (d.key === "user") this.note(d.at, "vrrp_script user: the agent runs checks as its own user");
      else this.note(d.at, `vrrp_script ${d.key}: not carried over`);
    }
    if ((check.timeout ?? 3) >= check.interval) check.timeout = Math.max(0.1, check.interval / 2);
    const existing = this.checks.get(name);
    const agents = [...new Set([...(existing?.agents ?? []), node])];
    this.checks.set(name, { ...check, ...existing, agents });
  }

  private vrrpInstance(s: Stmt, node: string): void {
    const name = ident(s.args[0] ?? "VI");
    const known = this.groups.get(name);
    if (!known)
      this.note(
        s.at,
        `vrrp_instance ${name}: onCoordinatorLoss quorum: its directors and the coordinator vote on who holds it, so it keeps its holder through a control-plane outage (directors reach each other on UDP ${DEFAULT_PEER_PORT})`,
      );
    const group: Group = known ?? {
      name,
      vips: [],
      members: [],
      preempt: true,
      preemptDelay: 0,
      onCoordinatorLoss: "quorum",
      notify: {},
      track: [],
      trackInterfaces: [],
      at: s.at,
    };
    let iface = "eth0";
    let priority = 100;
    for (const d of s.block ?? []) {
      switch (d.key) {
        case "state":
          break;
        case "interface":
          iface = d.args[0] ?? iface;
          break;
        case "priority":
          priority = num(d);
          break;
        case "virtual_router_id":
          this.note(d.at, "virtual_router_id: not needed, the coordinator's lease replaces VRRP");
          break;
        case "advert_int":
          group.leaseTtl = Math.min(120, Math.max(1, Math.ceil(num(d) * 3)));
          this.note(d.at, `advert_int ${d.args[0]}: leaseTtl ${group.leaseTtl} s (three adverts), renewed every third`);
          break;
        case "nopreempt":
          group.preempt = false;
          break;
        case "preempt_delay":
          group.preemptDelay = num(d);
          break;
        case "authentication":
          this.note(d.at, "authentication: dropped; Vigil signs every command with Ed25519 instead");
          break;
        case "virtual_ipaddress":
          for (const v of d.block ?? []) this.vip(group, v, iface);
          break;
        case "virtual_ipaddress_excluded":
          this.note(
            d.at,
            "virtual_ipaddress_excluded: listed as ordinary VIPs (Vigil does not exclude them from adverts)",
          );
          for (const v of d.block ?? []) this.vip(group, v, iface);
          break;
        case "track_script":
          for (const t of d.block ?? []) {
            const check = ident(t.key);
            const weightAt = t.args.indexOf("weight");
            const weight = weightAt >= 0 ? Number(t.args[weightAt + 1]) : (this.checks.get(check)?.weight ?? 0);
            if (!group.track.some((x) => x.check === check)) group.track.push({ check, weight });
          }
          break;
        case "track_interface":
          for (const t of d.block ?? []) {
            const weightAt = t.args.indexOf("weight");
            const weight = weightAt >= 0 ? Number(t.args[weightAt + 1]) : 0;
            if (!group.trackInterfaces.some((x) => x.interface === t.key))
              group.trackInterfaces.push({ interface: t.key, weight });
          }
          break;
        case "notify_master":
        case "notify_backup":
        case "notify_fault":
        case "notify_stop":
          group.notify[NOTIFY[d.key] ?? "master"] = exec(d.args);
          break;
        case "garp_master_delay":
          this.note(d.at, "garp_master_delay: the agent sends its gratuitous ARP burst at once on every claim");
          break;
        case "garp_master_repeat":
          group.garp = { ...(group.garp ?? {}), count: num(d) };
          break;
        case "garp_master_refresh":
          group.garp = { ...(group.garp ?? {}), refresh: num(d) };
          break;
        case "unicast_src_ip":
        case "unicast_peer":
          this.note(
            d.at,
            `${d.key}: not needed, directors reach each other at their node addresses (peerPort, UDP ${DEFAULT_PEER_PORT})`,
          );
          break;
        default:
          this.note(d.at, `vrrp_instance ${d.key}: not carried over`);
      }
    }
    if (!group.members.some((m) => m.node === node))
      group.members.push({ node, priority: Math.min(254, Math.max(1, priority)) });
    this.groups.set(name, group);
  }

  /** `192.168.1.10/24 dev eth1 label eth1:vip` */
  private vip(group: Group, v: Stmt, iface: string): void {
    const words = [v.key, ...v.args];
    const first = words[0] ?? "";
    const cidr = first.includes("/") ? first : `${first}/${first.includes(":") ? 128 : 32}`;
    const opt = (k: string) => {
      const i = words.indexOf(k);
      return i >= 0 ? words[i + 1] : undefined;
    };
    for (const extra of ["brd", "scope", "broadcast"])
      if (opt(extra)) this.note(v.at, `VIP ${extra}: not carried over`);
    if (group.vips.some((x) => x.cidr.split("/")[0] === cidr.split("/")[0])) return;
    const label = opt("label");
    group.vips.push({ cidr, interface: opt("dev") ?? iface, ...(label ? { label } : {}) });
  }

  private syncGroup(s: Stmt): void {
    const name = ident(s.args[0] ?? "SG");
    const sync = this.syncGroups.get(name) ?? { name, vipGroups: [], notify: {} };
    for (const d of s.block ?? []) {
      const state = NOTIFY[d.key];
      if (d.key === "group") for (const g of d.block ?? []) sync.vipGroups.push(ident(g.key));
      else if (state) sync.notify[state] = exec(d.args);
      else this.note(d.at, `vrrp_sync_group ${d.key}: not carried over`);
    }
    sync.vipGroups = [...new Set(sync.vipGroups)];
    this.syncGroups.set(name, sync);
  }

  private virtualServer(s: Stmt, node: string): void {
    const fwmark = s.args[0] === "fwmark" ? Number(s.args[1]) : undefined;
    const address = fwmark === undefined ? s.args[0] : undefined;
    const port = fwmark === undefined ? Number(s.args[1]) : undefined;
    if (s.args[0] === "group") {
      this.note(s.at, "virtual_server group: not carried over; list each address as its own virtual_server");
      return;
    }
    const name = ident(fwmark !== undefined ? `fwm-${fwmark}` : `${address}-${port}`);
    if (this.services.has(name)) return; // The same service on the other director.
    const vs: ServiceDraft = {
      name,
      ...(fwmark !== undefined ? { fwmark } : { address: address ?? "", port: port ?? 0 }),
      realServers: [],
      at: s.at,
    };
    let delayLoop = 60;
    const servers: Stmt[] = [];
    for (const d of s.block ?? []) {
      switch (d.key) {
        case "delay_loop":
          delayLoop = num(d);
          break;
        case "lb_algo":
        case "lvs_sched": {
          const scheduler = d.args[0] ?? "";
          if (isOneOf(SCHEDULERS, scheduler)) vs.scheduler = scheduler;
          else
            this.note(
              d.at,
              `${d.key} ${scheduler}: not an IPVS scheduler (${SCHEDULERS.join(", ")}); not carried over`,
            );
          break;
        }
        case "lb_kind":
        case "lvs_method": {
          const method = FORWARDING[(d.args[0] ?? "").toUpperCase()];
          if (method) vs.forwarding = method;
          else
            this.note(d.at, `${d.key} ${d.args[0]}: expected ${Object.keys(FORWARDING).join(", ")}; not carried over`);
          break;
        }
        case "persistence_timeout":
          vs.persistence = { ...vs.persistence, timeout: num(d) };
          break;
        case "persistence_granularity":
          vs.persistence = { timeout: 360, ...vs.persistence, netmask: d.args[0] ?? "" };
          break;
        case "protocol": {
          const protocol = (d.args[0] ?? "tcp").toLowerCase();
          if (isOneOf(PROTOCOLS, protocol)) vs.protocol = protocol;
          else this.note(d.at, `protocol ${d.args[0]}: expected TCP or UDP; not carried over`);
          break;
        }
        case "sorry_server":
          vs.sorryServer = { address: d.args[0] ?? "", ...(d.args[1] ? { port: Number(d.args[1]) } : {}) };
          break;
        case "quorum":
          vs.minHealthy = num(d);
          break;
        case "inhibit_on_failure":
          vs.inhibitOnFailure = true;
          break;
        case "real_server":
          servers.push(d);
          break;
        default:
          this.note(d.at, `virtual_server ${d.key}: not carried over`);
      }
    }
    for (const rs of servers) vs.realServers.push(this.realServer(vs, rs, delayLoop, node));
    this.services.set(name, vs);
  }

  private realServer(vs: ServiceDraft, s: Stmt, delayLoop: number, node: string): RealServerInput {
    const [address = "", portText] = s.args;
    const port = Number(portText ?? vs.port ?? 0);
    const rs: RealServerInput = { name: ident(`${address}-${port}`), address, port, weight: 1 };
    for (const d of s.block ?? []) {
      if (d.key === "weight") rs.weight = num(d);
      else if (d.key === "notify_up" || d.key === "notify_down")
        this.note(d.at, `${d.key}: use a webhook on target.up / target.down events instead`);
      else if (["TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "MISC_CHECK"].includes(d.key)) {
        if (rs.check)
          this.note(d.at, `${d.key}: a second check on one real server is not carried over (Vigil uses one)`);
        else rs.check = this.check(d, rs, delayLoop, node);
      } else this.note(d.at, `real_server ${d.key}: not carried over`);
    }
    return rs;
  }

  /** A real server's health check becomes a Vigil check run by the directors' agents. */
  private check(s: Stmt, rs: RealServerInput, delayLoop: number, node: string): string {
    const types: Record<string, ImportedType> = {
      TCP_CHECK: "tcp",
      HTTP_GET: "http",
      SSL_GET: "https",
      SMTP_CHECK: "smtp",
      MISC_CHECK: "script",
    };
    const type = types[s.key] ?? "tcp";
    const check: Omit<CheckDraft, "name" | "agents"> = { type, interval: delayLoop, retries: 1, rise: 1, fall: 1 };
    for (const d of s.block ?? []) {
      switch (d.key) {
        case "connect_timeout":
        case "misc_timeout":
          check.timeout = num(d);
          break;
        case "connect_port":
          check.connectPort = num(d);
          break;
        case "nb_get_retry":
        case "retry":
          check.retries = Math.min(10, num(d));
          break;
        case "delay_before_retry":
          check.delayBeforeRetry = num(d);
          break;
        case "misc_path":
          check.exec = exec(d.args);
          break;
        case "helo_name":
          check.helo = d.args[0] ?? "";
          break;
        case "url":
          for (const u of d.block ?? []) {
            if (u.key === "path") check.path = u.args[0] ?? "/";
            else if (u.key === "status_code") check.expectStatus = [num(u)];
            else if (u.key === "digest") check.digest = u.args[0] ?? "";
            else this.note(u.at, `url ${u.key}: not carried over`);
          }
          break;
        default:
          this.note(d.at, `${s.key} ${d.key}: not carried over`);
      }
    }
    if ((check.timeout ?? 3) >= check.interval) check.timeout = Math.max(0.1, check.interval / 2);
    // Checks with the same settings are one check.
    const key = JSON.stringify(check);
    for (const [name, existing] of this.checks)
      if (existing.key === key) {
        this.observe(name, node);
        return name;
      }
    const name = ident(`${type}-${rs.address}-${rs.port}`);
    this.checks.set(name, { name, ...check, agents: [node], key });
    return name;
  }

  private observe(check: string, node: string): void {
    const agents = this.checks.get(check)?.agents;
    if (agents && !agents.includes(node)) agents.push(node);
  }

  /** The merged cluster document. */
  document(clusterName?: string): ClusterDocumentInput {
    const vipOf = new Map<string, string>();
    for (const g of this.groups.values()) for (const v of g.vips) vipOf.set(v.cidr.split("/")[0] ?? "", g.name);
    const groups = [...this.groups.values()];
    const services = [...this.services.values()].map(({ at, ...vs }): VirtualServiceInput => {
      let group = vs.address ? vipOf.get(vs.address) : undefined;
      if (!group) {
        group = groups[0]?.name;
        this.note(
          at,
          `virtual_server ${vs.fwmark !== undefined ? `fwmark ${vs.fwmark}` : `${vs.address} ${vs.port}`}: no VIP group holds its address; put in ${group ?? "none"}, check it`,
        );
      }
      // keepalived's directors all run the checks of every virtual_server they have.
      for (const rs of vs.realServers)
        if (rs.check) for (const m of this.groups.get(group ?? "")?.members ?? []) this.observe(rs.check, m.node);
      return { ...vs, vipGroup: group ?? "" };
    });
    return {
      cluster: { name: ident(clusterName ?? "keepalived") },
      nodes: this.nodes.map(({ name, address }) => ({ name, address })),
      checks: [...this.checks.values()].map(toCheck),
      vipGroups: groups.map(({ at: _, ...g }) => ({
        ...g,
        members: [...g.members].sort((a, b) => b.priority - a.priority),
      })),
      syncGroups: [...this.syncGroups.values()],
      virtualServices: services,
    };
  }
}

/** Imports one keepalived.conf per director into one cluster document, with the notes. */
export function importKeepalived(
  files: string[],
  options: { cluster?: string; addresses?: Record<string, string> } = {},
): { document: ClusterDocumentInput; notes: Note[] } {
  const importer = new Importer();
  for (const f of files) importer.addDirector(f, options.addresses);
  const document = importer.document(options.cluster);
  return { document, notes: importer.notes };
}
