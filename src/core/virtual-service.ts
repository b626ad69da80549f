/**
 * Virtual services (keepalived's virtual_server) and their real servers.
 * A service listens on one VIP of a VIP group, or matches a firewall mark.
 */
import * as z from "zod";
import { duplicates } from "./collections.js";
import { hostPart, Ident, IpAddress, intRange, isIpv4Mapped, Port } from "./primitives.js";
import { FORWARDING_METHODS, PROTOCOLS, SCHEDULERS } from "./vocabulary.js";

export const RealServer = z
  .strictObject({
    name: Ident,
    address: IpAddress,
    port: Port,
    /** IPVS weight, 0-65535; 0 keeps the server but sends it no new connections. */
    weight: intRange(0, 65535).default(1),
    /** The check that decides this server's health; none means always up. */
    check: Ident.optional(),
    /**
     * Several checks that must all pass (keepalived's several checkers on one real_server):
     * the server is down when any of them is. Give `check` or `checks`, not both.
     */
    checks: z.array(Ident).min(1, { error: "list at least one check, or leave checks out" }).max(8).optional(),
  })
  .superRefine((rs, ctx) => {
    if (rs.check !== undefined && rs.checks !== undefined)
      ctx.addIssue({ code: "custom", path: ["checks"], message: "give check or checks, not both" });
    for (const [name, at] of duplicates(rs.checks ?? []))
      ctx.addIssue({ code: "custom", path: ["checks", at], message: `check ${name} is listed twice` });
  })
  .meta({ id: "RealServer" });
export type RealServer = z.infer<typeof RealServer>;

/** The checks that decide a real server's health: all must pass. */
export function checksOf(rs: Pick<RealServer, "check" | "checks">): string[] {
  return rs.checks ?? (rs.check === undefined ? [] : [rs.check]);
}

/**
 * The targets a real server is probed as: `service/server` for its one check, and
 * `service/server/check` for each when it has several.
 */
export function serverTargets(service: string, rs: Pick<RealServer, "name" | "check" | "checks">) {
  const checks = checksOf(rs);
  return checks.map((check) => ({
    check,
    target: checks.length === 1 ? `${service}/${rs.name}` : `${service}/${rs.name}/${check}`,
  }));
}

/** A netmask in dotted form (ipvsadm -M) or an IPv6 prefix length. */
const PersistenceNetmask = z.union(
  [
    z.string().refine(isContiguousMask, { error: "expected a contiguous netmask like 255.255.255.0" }),
    intRange(1, 128),
  ],
  { error: "expected a netmask like 255.255.255.0 or a prefix length" },
);

export const Persistence = z.strictObject({
  /** keepalived's persistence_timeout. */
  timeout: intRange(1, 31536000),
  /** keepalived's persistence_granularity. */
  netmask: PersistenceNetmask.optional(),
});

export const DriverConfig = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("ipvs") }),
  z.strictObject({ type: z.literal("haproxy"), backend: Ident }),
]);
export type DriverConfig = z.infer<typeof DriverConfig>;

export const SorryServer = z.strictObject({ address: IpAddress, port: Port.optional() });

export const VirtualService = z
  .strictObject({
    name: Ident,
    vipGroup: Ident,
    /** One of the VIP group's addresses; absent for firewall-mark services. */
    address: IpAddress.optional(),
    port: Port.optional(),
    protocol: z.enum(PROTOCOLS).default("tcp"),
    /** keepalived's `virtual_server fwmark N`. */
    fwmark: intRange(1, 4294967295).optional(),
    scheduler: z.enum(SCHEDULERS).default("wlc"),
    forwarding: z.enum(FORWARDING_METHODS).default("nat"),
    persistence: Persistence.optional(),
    driver: DriverConfig.default({ type: "ipvs" }),
    /** Takes the traffic when no real server is healthy. */
    sorryServer: SorryServer.optional(),
    /** Keep a failed real server with weight 0 instead of removing it. */
    inhibitOnFailure: z.boolean().default(false),
    /** keepalived's `quorum`: below this many healthy real servers the service is reported down. */
    minHealthy: intRange(0, 1000).default(1),
    realServers: z.array(RealServer).max(1000).default([]),
  })
  .superRefine((vs, ctx) => {
    const byAddress = vs.address !== undefined || vs.port !== undefined;
    if (byAddress && vs.fwmark !== undefined) {
      ctx.addIssue({ code: "custom", path: ["fwmark"], message: "give either address and port, or fwmark, not both" });
    } else if (!byAddress && vs.fwmark === undefined) {
      ctx.addIssue({ code: "custom", path: ["address"], message: "give address and port, or fwmark" });
    } else if (byAddress && (vs.address === undefined || vs.port === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [vs.address === undefined ? "address" : "port"],
        message: "address and port go together",
      });
    }
    if (vs.driver.type === "haproxy") {
      if (vs.fwmark !== undefined) {
        ctx.addIssue({ code: "custom", path: ["driver"], message: "the haproxy driver cannot serve a firewall mark" });
      }
      if (vs.protocol === "udp") {
        ctx.addIssue({ code: "custom", path: ["protocol"], message: "the haproxy driver serves tcp only" });
      }
    }
    if (vs.minHealthy > vs.realServers.length && vs.realServers.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["minHealthy"],
        message: `minHealthy ${vs.minHealthy} is more than the ${vs.realServers.length} real server(s)`,
      });
    }
    for (const [name, at] of duplicates(vs.realServers.map((r) => r.name))) {
      ctx.addIssue({
        code: "custom",
        path: ["realServers", at, "name"],
        message: `real server ${name} is listed twice`,
      });
    }
    // IPVS and HAProxy forward within one address family; an IPv4-mapped IPv6 address is the IPv4 one in disguise.
    const family = (address: string) => (address.includes(":") ? "IPv6" : "IPv4");
    for (const [i, rs] of vs.realServers.entries()) {
      if (isIpv4Mapped(rs.address))
        ctx.addIssue({
          code: "custom",
          path: ["realServers", i, "address"],
          message: `${rs.address} is an IPv4-mapped IPv6 address: write the IPv4 address`,
        });
      else if (vs.address !== undefined && family(rs.address) !== family(vs.address))
        ctx.addIssue({
          code: "custom",
          path: ["realServers", i, "address"],
          message: `expected an ${family(vs.address)} address, as the service's ${vs.address} is`,
        });
    }
    for (const [endpoint, at] of duplicates(vs.realServers.map((r) => `${hostPart(r.address)}:${r.port}`))) {
      ctx.addIssue({ code: "custom", path: ["realServers", at, "address"], message: `${endpoint} is listed twice` });
    }
    // Direct routing and tunnelling leave the packet's port alone: the real server must listen on the service port.
    if ((vs.forwarding === "dr" || vs.forwarding === "tun") && vs.port !== undefined && vs.driver.type === "ipvs") {
      for (const [i, rs] of vs.realServers.entries()) {
        if (rs.port !== vs.port) {
          ctx.addIssue({
            code: "custom",
            path: ["realServers", i, "port"],
            message: `${vs.forwarding} forwarding cannot change ports: expected ${vs.port}`,
          });
        }
      }
    }
  })
  .meta({ id: "VirtualService" });
export type VirtualService = z.infer<typeof VirtualService>;

function isContiguousMask(mask: string): boolean {
  const parts = mask.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return false;
  const bits = parts.reduce((acc, p) => acc * 256 + Number(p), 0);
  const inverted = 0xffffffff - bits;
  return bits !== 0 && (inverted & (inverted + 1)) === 0;
}
