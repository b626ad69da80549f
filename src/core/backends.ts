/**
 * Desired backend tables: what each director of a VIP group should program for its virtual
 * services, from the configuration and the quorum verdicts. A real server whose verdict is
 * `down` is left out, or kept with weight 0 when the service inhibits on failure; the sorry
 * server takes over when no real server is healthy. Every member of the VIP group gets the
 * same tables, so a new holder has them ready.
 */
import * as z from "zod";
import type { ClusterDocument } from "./cluster.js";
import { Ident, IpAddress, intRange, Port } from "./primitives.js";
import { DriverConfig, Persistence, serverTargets, type VirtualService } from "./virtual-service.js";
import { FORWARDING_METHODS, PROTOCOLS, SCHEDULERS } from "./vocabulary.js";
import type { VoteState } from "./vote.js";

export const DesiredServer = z.strictObject({
  name: Ident,
  address: IpAddress,
  port: Port,
  weight: intRange(0, 65535),
  /** `inhibited`: down, kept with weight 0; `sorry`: the sorry server standing in. */
  role: z.enum(["active", "inhibited", "sorry"]),
});
export type DesiredServer = z.infer<typeof DesiredServer>;

export const DesiredService = z.strictObject({
  name: Ident,
  driver: DriverConfig,
  address: IpAddress.optional(),
  port: Port.optional(),
  protocol: z.enum(PROTOCOLS),
  fwmark: intRange(1, 4294967295).optional(),
  scheduler: z.enum(SCHEDULERS),
  forwarding: z.enum(FORWARDING_METHODS),
  persistence: Persistence.optional(),
  servers: z.array(DesiredServer).max(1001),
  /** Real servers not down (unknown counts as healthy until a verdict says otherwise). */
  healthy: z.number().int().nonnegative(),
  /** Fewer healthy real servers than the service's minHealthy. */
  belowMinimum: z.boolean(),
});
export type DesiredService = z.infer<typeof DesiredService>;

export function desiredService(vs: VirtualService, verdict: (target: string) => VoteState): DesiredService {
  const servers: DesiredServer[] = [];
  let healthy = 0;
  for (const rs of vs.realServers) {
    // keepalived's rule for several checkers: the server is down when any of them fails.
    const down = serverTargets(vs.name, rs).some(({ target }) => verdict(target) === "down");
    if (!down) healthy += 1;
    if (!down) servers.push({ name: rs.name, address: rs.address, port: rs.port, weight: rs.weight, role: "active" });
    else if (vs.inhibitOnFailure)
      servers.push({ name: rs.name, address: rs.address, port: rs.port, weight: 0, role: "inhibited" });
  }
  if (healthy === 0 && vs.sorryServer) {
    servers.push({
      name: "sorry",
      address: vs.sorryServer.address,
      port: vs.sorryServer.port ?? vs.port ?? 0,
      weight: 1,
      role: "sorry",
    });
  }
  return {
    name: vs.name,
    driver: vs.driver,
    ...(vs.address !== undefined ? { address: vs.address } : {}),
    ...(vs.port !== undefined ? { port: vs.port } : {}),
    protocol: vs.protocol,
    ...(vs.fwmark !== undefined ? { fwmark: vs.fwmark } : {}),
    scheduler: vs.scheduler,
    forwarding: vs.forwarding,
    ...(vs.persistence ? { persistence: vs.persistence } : {}),
    servers,
    healthy,
    belowMinimum: healthy < vs.minHealthy,
  };
}

/**
 * The services each node programs: those of every VIP group it is a member of. The definition;
 * the coordinator keeps the same tables up to date with DesiredTables (desired-tables.ts), which
 * its tests hold to this.
 */
export function desiredBackends(
  doc: ClusterDocument,
  verdict: (target: string) => VoteState,
): Map<string, DesiredService[]> {
  const out = new Map<string, DesiredService[]>(doc.nodes.map((n) => [n.name, []]));
  for (const vs of doc.virtualServices) {
    const group = doc.vipGroups.find((g) => g.name === vs.vipGroup);
    if (!group) continue;
    const desired = desiredService(vs, verdict);
    for (const m of group.members) out.get(m.node)?.push(desired);
  }
  return out;
}
