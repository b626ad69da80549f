/** What the CLI prints: status laid out like `ipvsadm -Ln`, health, events and config diffs. */
import type { BackendsView } from "../src/core/backend-status.js";
import type { Change } from "../src/core/diff.js";
import type { Event } from "../src/core/event.js";
import type { HealthReport } from "../src/core/health.js";
import type { LeaseView } from "../src/core/lease-view.js";

const FORWARD = { dr: "Route", nat: "Masq", tun: "Tunnel" } as const;

const endpoint = (address: string, port: number) =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;

export function renderLeases(leases: LeaseView[]): string[] {
  const out = ["VIP groups"];
  if (leases.length === 0) out.push("  (none)");
  for (const l of leases) {
    const left = l.remainingMs === null ? "no lease" : `lease ${(Math.max(0, l.remainingMs) / 1000).toFixed(1)} s left`;
    out.push(`  ${l.group}  holder ${l.holder ?? "none"}  epoch ${l.epoch}  ${left}`);
    for (const m of l.members)
      out.push(
        `    ${m.node.padEnd(12)} priority ${String(m.priority).padEnd(4)} ${m.eligible ? "eligible" : `not eligible: ${m.reasons.join("; ")}`}`,
      );
  }
  return out;
}

/**
 * The desired IPVS table in `ipvsadm -Ln`'s layout; connection counts come from the VIP
 * group's holder when it reported its live table ("-" otherwise).
 */
export function renderVirtualServices(
  view: BackendsView,
  leases: LeaseView[],
  /** Each service's VIP group, from the cluster document. */
  groupOf: Map<string, string>,
): string[] {
  const out = [
    "IP Virtual Server table (desired; connections from the holder)",
    "Prot LocalAddress:Port Scheduler Flags",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
  ];
  const holders = new Map(leases.flatMap((l) => l.vipGroups.map((g) => [g, l.holder] as const)));
  for (const { desired: s, directors } of view.services) {
    const flags = [
      s.persistence ? `persistent ${s.persistence.timeout}` : "",
      s.persistence?.netmask !== undefined ? `mask ${s.persistence.netmask}` : "",
      s.driver.type === "haproxy" ? `haproxy:${s.driver.backend}` : "",
    ]
      .filter(Boolean)
      .join(" ");
    const head =
      s.fwmark !== undefined
        ? `FWM  ${s.fwmark} ${s.scheduler}`
        : `${s.protocol.toUpperCase()}  ${endpoint(s.address ?? "", s.port ?? 0)} ${s.scheduler}`;
    out.push(`${head}${flags ? ` ${flags}` : ""}`);
    const holderNode = holders.get(groupOf.get(s.name) ?? "");
    const holder = directors.find((d) => d.node === holderNode);
    for (const rs of s.servers) {
      const port = s.fwmark !== undefined ? 0 : rs.port;
      const live = holder?.actual?.servers.find((a) => a.address === rs.address && a.port === port);
      const active = live?.activeConns ?? live?.sessions;
      const inactive = live?.inactiveConns;
      out.push(
        `  -> ${endpoint(rs.address, port).padEnd(28)} ${FORWARD[s.forwarding].padEnd(7)} ${String(rs.weight).padEnd(6)} ${String(active ?? "-").padEnd(10)} ${inactive ?? "-"}`.trimEnd(),
      );
    }
  }
  return out;
}

export function renderHealth(report: HealthReport): string[] {
  const rows = report.targets.map((t) => [
    t.target,
    t.verdict.state,
    `${t.verdict.fresh}/${t.verdict.required}`,
    t.observers.map((o) => `${o.observer}=${o.state}`).join(" "),
  ]);
  return table(["TARGET", "VERDICT", "FRESH", "VOTES"], rows);
}

export function renderEvent(e: Event): string {
  return `${e.at}  ${e.severity.padEnd(8)} ${e.type.padEnd(22)} ${e.subject}  ${JSON.stringify(e.details)}`;
}

export function renderChanges(changes: Change[]): string[] {
  if (changes.length === 0) return ["no changes"];
  const sign = { create: "+", update: "~", delete: "-" } as const;
  return changes.map(
    (c) =>
      `${sign[c.op]} ${c.kind.padEnd(14)} ${c.name}${c.fields && c.fields.length > 0 ? ` (${c.fields.join(", ")})` : ""}`,
  );
}

/** Columns padded to their widest cell (a column in `caps` to at most that width); the last is not padded. */
export function table(header: string[], rows: string[][], caps: Record<number, number> = {}): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => Math.min((r[i] ?? "").length, caps[i] ?? Number.POSITIVE_INFINITY))),
  );
  return [header, ...rows].map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
