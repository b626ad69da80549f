/**
 * What a director actually has for a virtual service, read live by its driver (`ipvsadm -L -n`,
 * HAProxy's `show servers state` and `show stat`), and how that compares with the desired
 * table. Connection counts are there when the driver knows them: active and inactive for
 * IPVS, current sessions for HAProxy.
 */
import * as z from "zod";
import { DesiredService } from "./backends.js";
import { Ident } from "./primitives.js";
import { VoteState } from "./vote.js";

export const ActualServer = z.object({
  /** HAProxy's server name; IPVS real servers have none. */
  name: z.string().optional(),
  address: z.string(),
  port: z.number().int().nonnegative(),
  weight: z.number().int().nonnegative(),
  /** IPVS forwarding as `ipvsadm -Ln` prints it: Route, Masq, Tunnel. */
  forward: z.string().optional(),
  /** HAProxy's admin state: a server in `maint` takes no traffic. */
  state: z.enum(["ready", "drain", "maint"]).optional(),
  /** HAProxy's own health check says it is up (absent when HAProxy does not check it). */
  up: z.boolean().optional(),
  activeConns: z.number().int().nonnegative().optional(),
  inactiveConns: z.number().int().nonnegative().optional(),
  sessions: z.number().int().nonnegative().optional(),
});
export type ActualServer = z.infer<typeof ActualServer>;

export const ActualService = z.object({
  service: Ident,
  /** Absent when the service is not in the live table at all. */
  scheduler: z.string().optional(),
  present: z.boolean(),
  servers: z.array(ActualServer),
});
export type ActualService = z.infer<typeof ActualService>;

/** One IPVS connection sync daemon a director runs, as `ipvsadm -L --daemon` lists it. */
export const SyncDaemonState = z.object({
  role: z.enum(["master", "backup"]),
  interface: z.string(),
  syncId: z.number().int(),
});
export type SyncDaemonState = z.infer<typeof SyncDaemonState>;

/** The answer to `backends.status`: per driver either its services or why it could not read them. */
export const BackendsStatus = z.object({
  services: z.array(ActualService),
  errors: z.record(z.string(), z.string()),
  /** The IPVS sync daemons running, on a director with IPVS services (absent from older agents). */
  sync: z.array(SyncDaemonState).optional(),
});
export type BackendsStatus = z.infer<typeof BackendsStatus>;

/** What a director answered to its last backends.sync. */
export const BackendReport = z.object({
  revision: z.number().int(),
  at: z.string(),
  ok: z.boolean(),
  error: z.string().nullable(),
  /** Per driver: the commands sent and the table read back; on a partial failure, what did succeed. */
  result: z.record(z.string(), z.unknown()).nullable(),
});
export type BackendReport = z.infer<typeof BackendReport>;

export const DirectorStatus = z.object({
  node: z.string(),
  online: z.boolean(),
  /** Its answer to the last backends.sync. */
  report: BackendReport.nullable(),
  /** Its live table for this service as last read (see readAt); null when it could not be read. */
  actual: ActualService.nullable(),
  /** When the director's live table was last read (on the coordinator's schedule or a refresh); null before the first read. */
  readAt: z.string().nullable(),
  /** How old that read is, in milliseconds. */
  ageMs: z.number().nullable(),
  /** Why `actual` is null, or the driver's read error. */
  error: z.string().nullable(),
  /** Desired vs actual, one sentence each; empty when in step. */
  differences: z.array(z.string()),
  /** Its IPVS connection sync daemons as last read; null when not read or not reported. */
  sync: z.array(SyncDaemonState).nullable(),
});
export type DirectorStatus = z.infer<typeof DirectorStatus>;

/** One check of one real server and its quorum verdict: a server is down when any of its checks is. */
export const ServerCheck = z.object({ server: Ident, check: Ident, target: z.string(), state: VoteState });
export type ServerCheck = z.infer<typeof ServerCheck>;

export const BackendsView = z
  .object({
    at: z.string(),
    services: z.array(
      z.object({ desired: DesiredService, checks: z.array(ServerCheck), directors: z.array(DirectorStatus) }),
    ),
  })
  .meta({ id: "BackendsView" });
export type BackendsView = z.infer<typeof BackendsView>;

const endpoint = (address: string, port: number) =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;

/**
 * The differences between desired and actual, one sentence each; empty when in step. A
 * server in maintenance counts as absent (HAProxy keeps servers it did not add that way).
 * Real servers of a firewall-mark service are compared by address only: IPVS shows port 0.
 */
export function differences(desired: DesiredService, actual: ActualService): string[] {
  if (!actual.present) return ["service missing"];
  const out: string[] = [];
  if (desired.driver.type === "ipvs" && actual.scheduler !== undefined && actual.scheduler !== desired.scheduler)
    out.push(`scheduler ${actual.scheduler}, want ${desired.scheduler}`);
  const fwmark = desired.fwmark !== undefined;
  const key = (address: string, port: number) => endpoint(address, fwmark ? 0 : port);
  const have = new Map(actual.servers.filter((s) => s.state !== "maint").map((s) => [key(s.address, s.port), s]));
  for (const want of desired.servers) {
    const k = key(want.address, want.port);
    const got = have.get(k);
    have.delete(k);
    if (!got) out.push(`${k} missing`);
    else if (got.weight !== want.weight) out.push(`${k} weight ${got.weight}, want ${want.weight}`);
  }
  for (const k of have.keys()) out.push(`${k} not wanted`);
  return out;
}
