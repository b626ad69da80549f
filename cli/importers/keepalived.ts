/**
 * keepalived.conf to a Vigil cluster document. Each configuration is one director; several
 * (MASTER on one, BACKUP on the other) merge into one cluster with every member and its
 * priority. Whatever the document does differently from keepalived is a note with file:line;
 * where two directors' files disagree, the note names both; what cannot be merged at all is
 * refused with the reason.
 */
import path from "node:path";
import type { ClusterDocumentInput, SyncGroupInput, VirtualServiceInput } from "../../src/core/cluster.js";
import { checksOf } from "../../src/core/virtual-service.js";
import { DEFAULT_PEER_PORT } from "../../src/core/vocabulary.js";
import {
  type CheckDraft,
  exec,
  type Group,
  ident,
  NOTIFY,
  type Notify,
  num,
  type SyncDaemonDraft,
  toCheck,
} from "./keepalived-drafts.js";
import { type LocalService, readVirtualServer, type ServerDraft, sameService } from "./keepalived-lvs.js";
import { type EmailSubscription, MailImport } from "./keepalived-mail.js";
import { ImportRefused, type Note, Notebook } from "./keepalived-notes.js";
import { parseFile, type Stmt, type Where } from "./keepalived-syntax.js";

import { vigilTiming } from "./keepalived-timing.js";

/** A track_script entry, its weight settled once every vrrp_script is known. */
type Track = { check: string; weight?: number; at: Where };
type GroupDraft = Omit<Group, "track"> & { track: Track[] };
type SyncDraft = SyncGroupInput & { vipGroups: string[]; notify: Notify; trackingWeight: boolean; at: Where };

/**
 * Each director's name: its router_id, or where that is missing or shared (the stock
 * LVS_DEVEL), its file's name (lb1 for lb1.conf, its directory's for keepalived.conf).
 */
export function directorNames(directors: { file: string; routerId?: string | undefined }[]): string[] {
  const count = new Map<string, number>();
  for (const d of directors) if (d.routerId) count.set(d.routerId, (count.get(d.routerId) ?? 0) + 1);
  const fromFile = (file: string) => {
    const base = path
      .basename(file)
      .replace(/\.conf$/, "")
      .replace(/^keepalived[-_.]?/, "");
    return ident(base || path.basename(path.dirname(path.resolve(file))) || "lb");
  };
  const taken = new Set<string>();
  return directors.map((d) => {
    const wanted = d.routerId && count.get(d.routerId) === 1 ? ident(d.routerId) : fromFile(d.file);
    let name = wanted;
    for (let n = 2; taken.has(name); n++) name = `${wanted}-${n}`;
    taken.add(name);
    return name;
  });
}

export class Importer {
  readonly book = new Notebook();
  private readonly nodes: { name: string; address: string }[] = [];
  private readonly checks = new Map<string, CheckDraft>();
  /** vrrp_script name -> its weight, for track_script entries that give none. */
  private readonly scriptWeights = new Map<string, number>();
  private readonly groups = new Map<string, GroupDraft>();
  private readonly syncGroups = new Map<string, SyncDraft>();
  private readonly services = new Map<string, LocalService>();
  private readonly syncDaemons: SyncDaemonDraft[] = [];
  private readonly mail = new MailImport(this.book);
  private note(at: Where, message: string): void {
    this.book.note(at, message);
  }

  private agree(what: string, value: string, at: Where, refuse?: string): void {
    this.book.agree(what, value, at, refuse);
  }

  /** One director's keepalived.conf, already parsed (its includes followed). */
  addDirector(file: string, stmts: Stmt[], node: string, address: string | undefined): void {
    const defs = stmts.find((s) => s.key === "global_defs");
    const at = defs?.at ?? { file, line: 1, col: 1 };
    const unicast = stmts
      .flatMap((s) => (s.key === "vrrp_instance" ? (s.block ?? []) : []))
      .find((s) => s.key === "unicast_src_ip")?.args[0];
    const known = address ?? unicast;
    if (!known)
      this.note(
        at,
        `node ${node}: keepalived.conf does not say its address (no unicast_src_ip); 192.0.2.x is a placeholder to replace`,
      );
    this.nodes.push({ name: node, address: known ?? `192.0.2.${this.nodes.length + 1}` });
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
      if (d.key === "lvs_sync_daemon") {
        this.syncDaemon(d);
        continue;
      }
      if (!this.mail.globalDef(d)) this.note(d.at, `global_defs ${d.key}: not carried over`);
    }
  }

  /** `lvs_sync_daemon <INTERFACE> <VRRP_INSTANCE> [id <SYNC_ID>] [maxlen N] [port N] [ttl N] [group ADDR]` */
  private syncDaemon(d: Stmt): void {
    const [iface, instance, ...options] = d.args;
    if (!iface || !instance) {
      this.note(d.at, "lvs_sync_daemon: expected an interface and a vrrp_instance; not carried over");
      return;
    }
    let id: number | undefined;
    for (let i = 0; i < options.length; i += 2) {
      const [option, value] = [options[i], options[i + 1]];
      if (option === "id" && /^\d{1,3}$/.test(value ?? "") && Number(value) <= 255) id = Number(value);
      else if (option === "id")
        this.note(
          d.at,
          `lvs_sync_daemon id ${value ?? ""}: expected 0 to 255; the vrrp_instance's virtual_router_id is used`,
        );
      else
        this.note(
          d.at,
          `lvs_sync_daemon ${[option, value].filter(Boolean).join(" ")}: not carried over; the agent starts the kernel's sync daemon with its own defaults`,
        );
    }
    this.syncDaemons.push({ group: ident(instance), interface: iface, ...(id === undefined ? {} : { id }), at: d.at });
  }

  private vrrpScript(s: Stmt, node: string): void {
    const name = ident(s.args[0] ?? "script");
    const check: CheckDraft = { name, type: "script", agents: [], rise: 1, fall: 1, interval: 1 };
    const given: { interval?: number; timeout?: number } = {};
    for (const d of s.block ?? []) {
      if (d.key === "script") check.exec = exec(d.args);
      else if (d.key === "interval") given.interval = num(d);
      else if (d.key === "timeout") given.timeout = num(d);
      else if (d.key === "rise") check.rise = num(d);
      else if (d.key === "fall") check.fall = num(d);
      else if (d.key === "weight") this.scriptWeights.set(name, num(d));
      else if (d.key === "user") this.note(d.at, "vrrp_script user: the agent runs checks as its own user");
      else this.note(d.at, `vrrp_script ${d.key}: not carried over`);
    }
    const { timing, changes } = vigilTiming("vrrp_script", given);
    for (const change of changes) this.note(s.at, `vrrp_script ${name}: ${change}`);
    const settings = {
      exec: check.exec,
      ...given,
      rise: check.rise,
      fall: check.fall,
      weight: this.scriptWeights.get(name),
    };
    this.agree(`vrrp_script ${name}`, JSON.stringify(settings), s.at);
    const existing = this.checks.get(name);
    const agents = [...new Set([...(existing?.agents ?? []), node])];
    this.checks.set(name, { ...check, ...timing, ...existing, agents });
  }

  private vrrpInstance(s: Stmt, node: string): void {
    const name = ident(s.args[0] ?? "VI");
    const known = this.groups.get(name);
    if (!known)
      this.note(
        s.at,
        `vrrp_instance ${name}: onCoordinatorLoss quorum: its directors and the coordinator vote on who holds it, so it keeps its holder through a control-plane outage (directors reach each other on UDP ${DEFAULT_PEER_PORT})`,
      );
    const group: GroupDraft = known ?? {
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
    const block = s.block ?? [];
    const iface = block.find((d) => d.key === "interface");
    const primary = iface?.args[0] ?? "eth0";
    this.agree(
      `vrrp_instance ${name} interface`,
      primary,
      iface?.at ?? s.at,
      "Vigil puts a group's VIPs on one interface name on every member; rename the interface on one director",
    );
    const local = { preempt: true, preemptDelay: 0, vips: [] as { cidr: string; at: Where }[], tracksPrimary: true };
    let priority = 100;
    for (const d of block) {
      switch (d.key) {
        case "interface":
          break;
        case "state":
          this.note(
            d.at,
            `state ${d.args[0]}: not carried over; Vigil gives the VIPs to the member with the highest priority`,
          );
          break;
        case "priority":
          priority = num(d);
          break;
        case "virtual_router_id":
          this.note(d.at, "virtual_router_id: not needed, the coordinator's lease replaces VRRP");
          group.vrid ??= num(d);
          break;
        case "lvs_sync_daemon_interface":
          if (d.args[0]) this.syncDaemons.push({ group: name, interface: d.args[0], at: d.at });
          else this.note(d.at, "lvs_sync_daemon_interface: expected an interface; not carried over");
          break;
        case "advert_int": {
          const ttl = Math.min(120, Math.max(1, Math.ceil(num(d) * 3)));
          this.agree(`vrrp_instance ${name} advert_int`, d.args[0] ?? "", d.at);
          group.leaseTtl ??= ttl;
          this.note(d.at, `advert_int ${d.args[0]}: leaseTtl ${group.leaseTtl} s (three adverts), renewed every third`);
          break;
        }
        case "nopreempt":
          local.preempt = false;
          break;
        case "preempt_delay":
          local.preemptDelay = num(d);
          break;
        case "dont_track_primary":
          local.tracksPrimary = false;
          break;
        case "authentication":
          this.note(d.at, "authentication: dropped; Vigil signs every command with Ed25519 instead");
          break;
        case "virtual_ipaddress_excluded":
          this.note(
            d.at,
            "virtual_ipaddress_excluded: listed as ordinary VIPs (Vigil does not exclude them from adverts)",
          );
          for (const v of d.block ?? []) local.vips.push(this.vip(group, v, primary));
          break;
        case "virtual_ipaddress":
          for (const v of d.block ?? []) local.vips.push(this.vip(group, v, primary));
          break;
        case "track_script":
          for (const t of d.block ?? []) {
            const check = ident(t.key);
            const weightAt = t.args.indexOf("weight");
            const weight = weightAt >= 0 ? Number(t.args[weightAt + 1]) : undefined;
            this.agree(`vrrp_instance ${name} track_script ${check} weight`, String(weight ?? "(the script's)"), t.at);
            if (!group.track.some((x) => x.check === check))
              group.track.push({ check, ...(weight !== undefined ? { weight } : {}), at: t.at });
          }
          break;
        case "track_interface":
          for (const t of d.block ?? []) {
            const weightAt = t.args.indexOf("weight");
            const weight = weightAt >= 0 ? Number(t.args[weightAt + 1]) : 0;
            this.agree(`vrrp_instance ${name} track_interface ${t.key} weight`, String(weight), t.at);
            if (!group.trackInterfaces.some((x) => x.interface === t.key))
              group.trackInterfaces.push({ interface: t.key, weight });
          }
          break;
        case "notify_master":
        case "notify_backup":
        case "notify_fault":
        case "notify_stop": {
          const state = NOTIFY[d.key] ?? "master";
          const hook = exec(d.args);
          this.agree(`vrrp_instance ${name} ${d.key}`, [hook.path, ...hook.args].join(" "), d.at);
          group.notify[state] ??= hook;
          this.note(d.at, hookNote(d.key, hook, name, state));
          break;
        }
        case "garp_master_delay":
          this.note(d.at, "garp_master_delay: the agent sends its gratuitous ARP burst at once on every claim");
          break;
        case "garp_master_repeat":
          group.garp = { ...(group.garp ?? {}), count: num(d) };
          break;
        case "garp_master_refresh":
          group.garp = { ...(group.garp ?? {}), refresh: num(d) };
          break;
        case "smtp_alert":
          this.mail.group(name, d);
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
    const nopreempt = block.find((d) => d.key === "nopreempt")?.at ?? s.at;
    this.agree(`vrrp_instance ${name} nopreempt`, local.preempt ? "not set" : "set", nopreempt);
    const delay = block.find((d) => d.key === "preempt_delay")?.at ?? s.at;
    this.agree(`vrrp_instance ${name} preempt_delay`, String(local.preemptDelay), delay);
    if (!known) {
      group.preempt = local.preempt;
      group.preemptDelay = local.preemptDelay;
    }
    // keepalived puts an instance in fault when its own interface goes down, unless told not to.
    this.agree(`vrrp_instance ${name} dont_track_primary`, local.tracksPrimary ? "not set" : "set", s.at);
    if (!known && local.tracksPrimary && !group.trackInterfaces.some((x) => x.interface === primary))
      group.trackInterfaces.push({ interface: primary, weight: 0 });
    if (known) this.sameVips(group, local.vips, s.at);
    if (!group.members.some((m) => m.node === node))
      group.members.push({ node, priority: Math.min(254, Math.max(1, priority)) });
    this.groups.set(name, group);
  }

  /** A later director's VIPs for a group the first one defined: each one only one side has is said. */
  private sameVips(group: GroupDraft, local: { cidr: string; at: Where }[], at: Where): void {
    const here = new Set(local.map((v) => v.cidr));
    for (const v of group.vips)
      if (!here.has(v.cidr))
        this.note(
          at,
          `vrrp_instance ${group.name}: VIP ${v.cidr} is not in this file; kept, as the other director has it`,
        );
  }

  /** `192.168.1.10/24 dev eth1 label eth1:vip` */
  private vip(group: GroupDraft, v: Stmt, iface: string): { cidr: string; at: Where } {
    const words = [v.key, ...v.args];
    const first = words[0] ?? "";
    const cidr = first.includes("/") ? first : `${first}/${first.includes(":") ? 128 : 32}`;
    const opt = (k: string) => {
      const i = words.indexOf(k);
      return i >= 0 ? words[i + 1] : undefined;
    };
    for (const extra of ["brd", "scope", "broadcast"])
      if (opt(extra)) this.note(v.at, `VIP ${extra}: not carried over`);
    const dev = opt("dev") ?? iface;
    const label = opt("label");
    const what = `VIP ${cidr} of ${group.name}`;
    this.agree(
      `${what} dev`,
      dev,
      v.at,
      "Vigil puts a VIP on one interface name on every member; rename the interface on one director",
    );
    this.agree(`${what} label`, label ?? "(none)", v.at);
    const known = group.vips.some((x) => x.cidr.split("/")[0] === cidr.split("/")[0]);
    if (!known) {
      if (group.members.length > 0)
        this.note(v.at, `vrrp_instance ${group.name}: VIP ${cidr} is only in this file; added for every member`);
      group.vips.push({ cidr, interface: dev, ...(label ? { label } : {}) });
    }
    return { cidr, at: v.at };
  }

  private syncGroup(s: Stmt): void {
    const name = ident(s.args[0] ?? "SG");
    const sync = this.syncGroups.get(name) ?? { name, vipGroups: [], notify: {}, trackingWeight: false, at: s.at };
    for (const d of s.block ?? []) {
      const state = NOTIFY[d.key];
      if (d.key === "group") for (const g of d.block ?? []) sync.vipGroups.push(ident(g.key));
      else if (d.key === "sync_group_tracking_weight") sync.trackingWeight = true;
      else if (d.key === "smtp_alert") this.mail.group(name, d);
      else if (state) {
        const hook = exec(d.args);
        this.agree(`vrrp_sync_group ${name} ${d.key}`, [hook.path, ...hook.args].join(" "), d.at);
        sync.notify[state] ??= hook;
        this.note(d.at, hookNote(d.key, hook, name, state));
      } else this.note(d.at, `vrrp_sync_group ${d.key}: not carried over`);
    }
    sync.vipGroups = [...new Set(sync.vipGroups)];
    this.syncGroups.set(name, sync);
  }

  private virtualServer(s: Stmt, node: string): void {
    const local = readVirtualServer(s, node, {
      note: (at, message) => this.note(at, message),
      check: (draft, hint, n) => this.check(draft, hint, n),
      smtpAlert: (d, service, server) =>
        server === undefined ? this.mail.service(service, d) : this.mail.server(service, server, d),
    });
    if (!local) return;
    const kept = this.services.get(local.name);
    if (!kept) this.services.set(local.name, local);
    else sameService(kept, local, this.book);
  }

  /** The check with these settings: one per distinct settings, named for what it checks. */
  private check(draft: Omit<CheckDraft, "name" | "agents">, hint: string, node: string): string {
    const key = JSON.stringify({ ...draft, hint });
    for (const [name, existing] of this.checks)
      if (existing.key === key) {
        this.observe(name, node);
        return name;
      }
    const base = ident(hint);
    let name = base;
    for (let n = 2; this.checks.has(name); n++) name = `${base}-${n}`;
    this.checks.set(name, { name, ...draft, agents: [node], key });
    return name;
  }

  private observe(check: string, node: string): void {
    const agents = this.checks.get(check)?.agents;
    if (agents && !agents.includes(node)) agents.push(node);
  }

  /** A track_script's weight: its own, else its vrrp_script's; 0 in a sync group that ignores weights. */
  private trackWeight(group: string, t: Track): number {
    const weight = t.weight ?? this.scriptWeights.get(t.check) ?? 0;
    if (weight === 0) return 0;
    const sync = [...this.syncGroups.values()].find((g) => g.vipGroups.includes(group));
    if (!sync || sync.trackingWeight) return weight;
    this.note(
      t.at,
      `track_script ${t.check} weight ${weight}: ${group} is in vrrp_sync_group ${sync.name}, where keepalived ignores tracking weights (no sync_group_tracking_weight): weight 0, a failure puts it in fault`,
    );
    return 0;
  }

  /**
   * The sync groups of two or more instances. keepalived also takes one of a single instance
   * (for its tracking); Vigil's join two or more, so its hooks go to that instance's VIP group.
   */
  private joinedSyncGroups(groups: { name: string; notify: Notify }[]): SyncGroupInput[] {
    const out: SyncGroupInput[] = [];
    for (const { trackingWeight: _, at, ...sync } of this.syncGroups.values()) {
      if (sync.vipGroups.length >= 2) {
        out.push(sync);
        continue;
      }
      const group = groups.find((g) => g.name === sync.vipGroups[0]);
      for (const [state, hook] of Object.entries(sync.notify)) if (group) group.notify[state as keyof Notify] ??= hook;
      this.note(
        at,
        `vrrp_sync_group ${sync.name}: one instance only; Vigil's sync groups join two or more, so it is left out${group && Object.keys(sync.notify).length > 0 ? ` and its notify hooks go to ${group.name}` : ""}`,
      );
    }
    return out;
  }

  /** Each director's sync daemon on its VIP group: the same interface and id on every director. */
  private syncedGroups(): void {
    for (const daemon of this.syncDaemons) {
      const group = this.groups.get(daemon.group);
      if (!group) {
        this.note(daemon.at, `lvs_sync_daemon: no vrrp_instance ${daemon.group} in any file; not carried over`);
        continue;
      }
      const syncId = daemon.id ?? group.vrid ?? 0;
      this.agree(`lvs_sync_daemon of ${group.name}`, `${daemon.interface} id ${syncId}`, daemon.at);
      if (group.lvsSync) continue;
      group.lvsSync = { interface: daemon.interface, syncId };
      this.note(
        daemon.at,
        `lvs_sync_daemon ${daemon.interface}: lvsSync on ${group.name} (syncId ${syncId}); its holder runs the IPVS sync daemon as master, the other members as backup`,
      );
    }
  }

  /** The email subscription keepalived's mail settings make, for the merged document. */
  emailSubscription(document: ClusterDocumentInput): EmailSubscription | undefined {
    return this.mail.subscription(document);
  }

  /** The merged cluster document. */
  document(clusterName?: string): ClusterDocumentInput {
    const vipOf = new Map<string, string>();
    for (const g of this.groups.values()) for (const v of g.vips) vipOf.set(v.cidr.split("/")[0] ?? "", g.name);
    this.syncedGroups();
    const groups = [...this.groups.values()].map(({ at: _, vrid: _vrid, track, ...g }) => ({
      ...g,
      track: track
        .filter((t) => {
          if (this.checks.has(t.check)) return true;
          this.note(t.at, `track_script ${t.check}: no vrrp_script ${t.check} in any file; not carried over`);
          return false;
        })
        .map((t) => ({ check: t.check, weight: this.trackWeight(g.name, t) })),
      members: [...g.members].sort((a, b) => b.priority - a.priority),
    }));
    const services = [...this.services.values()].map(({ at, fields: _, ...vs }): VirtualServiceInput => {
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
        for (const check of checksOf(rs))
          for (const m of this.groups.get(group ?? "")?.members ?? []) this.observe(check, m.node);
      const realServers = vs.realServers.map(({ at: _at, ...rs }: ServerDraft) => rs);
      return { ...vs, realServers, vipGroup: group ?? "" };
    });
    return {
      cluster: { name: ident(clusterName ?? "keepalived") },
      nodes: this.nodes,
      checks: [...this.checks.values()].map(toCheck),
      vipGroups: groups,
      syncGroups: this.joinedSyncGroups(groups),
      virtualServices: services,
    };
  }
}

/** What an imported notify hook is run as: Vigil appends the group, the state and the epoch. */
function hookNote(key: string, hook: { path: string; args: string[] }, group: string, state: string): string {
  return `${key}: runs as ${[hook.path, ...hook.args].join(" ")} ${group} ${state} EPOCH (Vigil appends the group, the state and the lease epoch), and only if the agent's allowlist names ${hook.path}`;
}

/** Imports one keepalived.conf per director into one cluster document, with the notes. */
export function importKeepalived(
  files: string[],
  options: { cluster?: string; addresses?: Record<string, string> } = {},
): { document: ClusterDocumentInput; notes: Note[]; email?: EmailSubscription } {
  const parsed = files.map((file) => {
    const stmts = parseFile(file);
    const routerId = stmts.find((s) => s.key === "global_defs")?.block?.find((s) => s.key === "router_id");
    return { file, stmts, routerId };
  });
  const names = directorNames(parsed.map((p) => ({ file: p.file, routerId: p.routerId?.args[0] })));
  const importer = new Importer();
  parsed.forEach((p, i) => {
    const name = names[i] ?? "lb";
    const rid = p.routerId?.args[0];
    if (p.routerId && rid && ident(rid) !== name) {
      const others = parsed.filter((o) => o !== p && o.routerId?.args[0] === rid).map((o) => o.file);
      importer.book.notes.push({
        at: p.routerId.at,
        message: `router_id ${rid} is also the router_id of ${others.join(", ")}: this director is named ${name}, from its file name`,
      });
    }
    importer.addDirector(p.file, p.stmts, name, options.addresses?.[name]);
  });
  if (importer.book.refusals.length > 0) throw new ImportRefused(importer.book.refusals);
  const document = importer.document(options.cluster);
  const email = importer.emailSubscription(document);
  return { document, notes: importer.book.notes, ...(email ? { email } : {}) };
}
