/**
 * keepalived's mail alerts as an email subscription: notification_email, its _from,
 * smtp_server and smtp_connect_timeout from global_defs, and smtp_alert wherever keepalived
 * takes it. The filter is keepalived's: state changes of the VIP groups (or sync groups) that
 * alert, real servers up or down and services under their quorum for the checkers that
 * alert. smtp_alert left unset takes smtp_alert_vrrp or smtp_alert_checker, then smtp_alert
 * in global_defs, and is off when none is set, as in keepalived.
 */
import { BlockList, isIP } from "node:net";
import type { ClusterDocumentInput } from "../../src/core/cluster.js";
import { serverTargets } from "../../src/core/virtual-service.js";
import type { EventType } from "../../src/core/vocabulary.js";
import type { Notebook } from "./keepalived-notes.js";
import type { Stmt, Where } from "./keepalived-syntax.js";

/** The subscription as `POST /v1/webhooks` takes it (no password: keepalived has none). */
export interface EmailSubscription {
  name: string;
  format: "email";
  url: string;
  enabled: boolean;
  email: { from: string; to: string[]; starttls: "required"; timeout: number };
  filter: { events: EventType[]; targets: string[] };
}

const VRRP_EVENTS: EventType[] = ["vip.moved", "lease.expired"];
const CHECKER_EVENTS: EventType[] = ["target.down", "target.up", "service.below_minimum", "service.restored"];
/** The filter's limit on targets. */
const MAX_TARGETS = 1000;

/** Addresses only the director (or its LAN) can reach, which a control plane on the Internet cannot. */
const INSIDE = new BlockList();
for (const [net, bits] of [
  ["127.0.0.0", 8],
  ["10.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["169.254.0.0", 16],
] as const)
  INSIDE.addSubnet(net, bits, "ipv4");
INSIDE.addAddress("::1", "ipv6");
INSIDE.addSubnet("fc00::", 7, "ipv6");
INSIDE.addSubnet("fe80::", 10, "ipv6");

type Switch = { on: boolean; at: Where };

export class MailImport {
  private to: { list: string[]; at: Where } | null = null;
  private from: { address: string; at: Where } | null = null;
  private relayAt: { host: string; port: number | null; at: Where } | null = null;
  private timeout: { seconds: number; at: Where } | null = null;
  private readonly defaults: { all?: boolean; vrrp?: boolean; checker?: boolean } = {};
  private readonly groups = new Map<string, Switch>();
  private readonly services = new Map<string, Switch>();
  private readonly servers = new Map<string, Switch>();
  private firstAt: Where | null = null;

  constructor(private readonly book: Notebook) {}

  /** A global_defs statement, if it is about mail; false when it is not. */
  globalDef(d: Stmt): boolean {
    switch (d.key) {
      case "notification_email": {
        const list = (d.block ?? []).map((s) => s.key);
        this.book.agree("notification_email", [...list].sort().join(" "), d.at);
        this.to ??= { list, at: d.at };
        break;
      }
      case "notification_email_from":
        this.book.agree("notification_email_from", d.args[0] ?? "", d.at);
        this.from ??= { address: d.args[0] ?? "", at: d.at };
        break;
      case "smtp_server": {
        this.book.agree("smtp_server", d.args.join(" "), d.at);
        const port = d.args[1] === undefined ? null : Number(d.args[1]);
        this.relayAt ??= { host: d.args[0] ?? "", port, at: d.at };
        break;
      }
      case "smtp_connect_timeout":
        this.book.agree("smtp_connect_timeout", d.args[0] ?? "", d.at);
        this.timeout ??= { seconds: Number(d.args[0]), at: d.at };
        break;
      case "smtp_helo_name":
        this.book.note(d.at, "smtp_helo_name: not carried over; Vigil's EHLO names the sender's domain");
        break;
      case "smtp_alert":
      case "smtp_alert_vrrp":
      case "smtp_alert_checker": {
        const key = d.key === "smtp_alert" ? "all" : d.key === "smtp_alert_vrrp" ? "vrrp" : "checker";
        this.book.agree(`global_defs ${d.key}`, String(this.flag(d)), d.at);
        this.defaults[key] ??= this.flag(d);
        break;
      }
      default:
        return false;
    }
    this.firstAt ??= d.at;
    return true;
  }

  /** smtp_alert in a vrrp_instance or vrrp_sync_group. */
  group(name: string, d: Stmt): void {
    this.set(this.groups, name, d);
  }

  /** smtp_alert in a virtual_server. */
  service(name: string, d: Stmt): void {
    this.set(this.services, name, d);
  }

  /** smtp_alert in a real_server. */
  server(service: string, name: string, d: Stmt): void {
    this.set(this.servers, `${service}/${name}`, d);
  }

  private set(map: Map<string, Switch>, key: string, d: Stmt): void {
    const on = this.flag(d);
    if (!map.has(key)) map.set(key, { on, at: d.at });
    this.firstAt ??= d.at;
  }

  /** `smtp_alert`, `smtp_alert on`, `smtp_alert false`, ... */
  private flag(d: Stmt): boolean {
    const word = d.args[0];
    if (word === undefined || /^(true|on|yes)$/i.test(word)) return true;
    if (/^(false|off|no)$/i.test(word)) return false;
    this.book.note(d.at, `${d.key} ${word}: expected on or off; taken as on`);
    return true;
  }

  /** The subscription for the merged document, or undefined when keepalived would mail no one. */
  subscription(doc: ClusterDocumentInput): EmailSubscription | undefined {
    if (!this.firstAt) return undefined;
    if (!this.to || this.to.list.length === 0) {
      this.book.note(
        this.firstAt,
        "no notification_email: keepalived mails no one, so no email subscription is written",
      );
      return undefined;
    }
    const { targets, events, any } = this.alerting(doc);
    const subscription: EmailSubscription = {
      name: `${doc.cluster.name}-mail`,
      format: "email",
      url: this.relay(),
      enabled: any,
      email: { from: this.sender(), to: this.to.list, starttls: "required", timeout: this.seconds() },
      filter: { events, targets },
    };
    this.book.note(
      this.to.at,
      `notification_email: email subscription ${subscription.name} (vigil alerts apply -f); it requires STARTTLS, which keepalived never used: set email.starttls to opportunistic or off for a relay without it`,
    );
    if (!any)
      this.book.note(
        this.firstAt,
        "no smtp_alert is on: keepalived mails nothing, so the subscription is written disabled; enabled, it covers every VIP group and real server",
      );
    return subscription;
  }

  /** What alerts: lease units (a VIP group, or its sync group) and checker targets. */
  private alerting(doc: ClusterDocumentInput): { targets: string[]; events: EventType[]; any: boolean } {
    const vrrpDefault = this.defaults.vrrp ?? this.defaults.all ?? false;
    const checkerDefault = this.defaults.checker ?? this.defaults.all ?? false;
    const units = new Set<string>();
    const syncOf = new Map((doc.syncGroups ?? []).flatMap((s) => s.vipGroups.map((g) => [g, s.name] as const)));
    for (const g of doc.vipGroups ?? []) {
      const sync = syncOf.get(g.name);
      const on = this.groups.get(g.name)?.on ?? (sync && this.groups.get(sync)?.on) ?? vrrpDefault;
      if (on) units.add(sync ?? g.name);
    }
    const checks: string[] = [];
    for (const vs of doc.virtualServices ?? []) {
      const vsOn = this.services.get(vs.name)?.on ?? checkerDefault;
      if (vsOn) checks.push(vs.name);
      for (const rs of vs.realServers ?? [])
        if (this.servers.get(`${vs.name}/${rs.name}`)?.on ?? vsOn)
          for (const { target } of serverTargets(vs.name, rs)) checks.push(target);
    }
    const any = units.size > 0 || checks.length > 0;
    if (!any) return { targets: [], events: [...VRRP_EVENTS, ...CHECKER_EVENTS], any };
    const events = [...(units.size > 0 ? VRRP_EVENTS : []), ...(checks.length > 0 ? CHECKER_EVENTS : [])];
    const targets = [...units, ...checks];
    if (targets.length <= MAX_TARGETS) return { targets, events, any };
    this.book.note(
      this.firstAt as Where,
      `smtp_alert: ${targets.length} targets alert, more than a filter lists (${MAX_TARGETS}); the subscription takes events of every target`,
    );
    return { targets: [], events, any };
  }

  /** smtp://host:port; Workers reach no port 25, so keepalived's default becomes the submission port. */
  private relay(): string {
    if (!this.relayAt) {
      this.book.note(
        (this.to as { at: Where }).at,
        "no smtp_server: the subscription's url smtp://smtp.invalid:587 is a placeholder for your relay",
      );
      return "smtp://smtp.invalid:587";
    }
    const { host, at } = this.relayAt;
    let port = this.relayAt.port ?? 25;
    if (port === 25) {
      this.book.note(
        at,
        `smtp_server ${host}: port 587, the relay's submission port, where keepalived uses 25: the control plane cannot connect to port 25`,
      );
      port = 587;
    }
    if (host === "localhost" || (isIP(host) !== 0 && INSIDE.check(host, isIP(host) === 6 ? "ipv6" : "ipv4")))
      this.book.note(
        at,
        `smtp_server ${host}: the control plane sends mail from outside your network and cannot reach this address; give it a relay it can reach`,
      );
    const bracketed = isIP(host) === 6 ? `[${host}]` : host;
    return port === 465 ? `smtps://${bracketed}` : `smtp://${bracketed}:${port}`;
  }

  private sender(): string {
    if (this.from?.address) return this.from.address;
    const domain = this.to?.list[0]?.split("@")[1] ?? "example.net";
    this.book.note(
      (this.to as { at: Where }).at,
      `no notification_email_from: mail is sent from vigil@${domain}, where keepalived uses keepalived@ the director's host name`,
    );
    return `vigil@${domain}`;
  }

  private seconds(): number {
    if (!this.timeout) return 30;
    const { seconds, at } = this.timeout;
    const kept = Math.min(120, Math.max(1, Number.isFinite(seconds) ? Math.round(seconds) : 30));
    if (kept !== seconds)
      this.book.note(at, `smtp_connect_timeout ${seconds}: ${kept} s, as Vigil's email.timeout takes 1 to 120 s`);
    return kept;
  }
}
