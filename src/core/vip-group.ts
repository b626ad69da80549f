/**
 * VIP groups (keepalived's vrrp_instance) and sync groups (vrrp_sync_group).
 * A VIP group is held by at most one member at a time, under a coordinator lease.
 */
import * as z from "zod";
import { duplicates } from "./collections.js";
import { Cidr, Exec, hostPart, Ident, InterfaceName, intRange, seconds } from "./primitives.js";
import { COORDINATOR_LOSS_POLICIES, NOTIFY_STATES } from "./vocabulary.js";

export const Vip = z
  .strictObject({
    cidr: Cidr,
    interface: InterfaceName,
    /** `ip addr add ... label eth0:vip`; Linux requires it to start with the interface name and a colon. */
    label: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}:[A-Za-z0-9_.-]{1,14}$/, {
        error: "expected a label like eth0:vip (interface, ':', suffix)",
      })
      .max(15, { error: "a label is at most 15 characters" })
      .optional(),
  })
  .superRefine((vip, ctx) => {
    if (vip.label !== undefined && !vip.label.startsWith(`${vip.interface}:`)) {
      ctx.addIssue({
        code: "custom",
        path: ["label"],
        message: `label must start with "${vip.interface}:" (the interface name)`,
      });
    }
  });
export type Vip = z.infer<typeof Vip>;

export const Member = z.strictObject({
  node: Ident,
  /** keepalived's priority: 1-254, higher wins. */
  priority: intRange(1, 254),
});
export type Member = z.infer<typeof Member>;

/** keepalived's track_script: a check whose state adds to or takes from the priority. */
export const TrackedCheck = z.strictObject({
  check: Ident,
  /** Added to the priority while the check is up; a negative weight is taken away while it is down. */
  weight: intRange(-253, 253).default(0),
});

export const TrackedInterface = z.strictObject({
  interface: InterfaceName,
  weight: intRange(-253, 253).default(0),
});

/** keepalived's gratuitous ARP settings (garp_master_repeat, garp_interval, garp_master_refresh). */
export const Garp = z.strictObject({
  count: intRange(1, 100).default(5),
  interval: seconds(0.001, 10).default(0.2),
  /** Re-announce the VIPs this often while holding them; 0 turns it off. */
  refresh: seconds(0, 86400).default(0),
});

/**
 * LVS connection synchronization (keepalived's lvs_sync_daemon and lvs_sync_daemon_interface):
 * the member holding the group runs the kernel's IPVS sync daemon as master on `interface`, the
 * other members run it as backup, so the connections the holder balanced survive a failover.
 */
export const LvsSync = z.strictObject({
  interface: InterfaceName,
  /** keepalived's `id`: directors take only sync messages with their own id (0-255). */
  syncId: intRange(0, 255).default(0),
});
export type LvsSync = z.infer<typeof LvsSync>;

/** Scripts run on state changes, as argv (keepalived's notify_master, notify_backup, ...). */
export const NotifyHooks = z.strictObject(
  Object.fromEntries(NOTIFY_STATES.map((s) => [s, Exec.optional()])) as Record<
    (typeof NOTIFY_STATES)[number],
    z.ZodOptional<typeof Exec>
  >,
);

export const VipGroup = z
  .strictObject({
    name: Ident,
    vips: z.array(Vip).min(1, { error: "a VIP group needs at least one VIP" }).max(64),
    members: z.array(Member).min(1, { error: "a VIP group needs at least one member" }).max(32),
    /** nopreempt is `preempt: false`: a recovered higher-priority node does not take the VIPs back. */
    preempt: z.boolean().default(true),
    preemptDelay: seconds(0, 3600).default(0),
    /** How long a lease lasts; the holder renews every third of it. */
    leaseTtl: seconds(0.5, 120).default(3),
    garp: Garp.default({ count: 5, interval: 0.2, refresh: 0 }),
    onCoordinatorLoss: z.enum(COORDINATOR_LOSS_POLICIES).default("quorum"),
    notify: NotifyHooks.default({}),
    track: z.array(TrackedCheck).max(32).default([]),
    trackInterfaces: z.array(TrackedInterface).max(32).default([]),
    lvsSync: LvsSync.optional(),
  })
  .superRefine((group, ctx) => {
    for (const [cidr, at] of duplicates(group.vips.map((v) => hostPart(v.cidr)))) {
      ctx.addIssue({ code: "custom", path: ["vips", at, "cidr"], message: `VIP ${cidr} is listed twice` });
    }
    for (const [node, at] of duplicates(group.members.map((m) => m.node))) {
      ctx.addIssue({ code: "custom", path: ["members", at, "node"], message: `node ${node} is a member twice` });
    }
    for (const [check, at] of duplicates(group.track.map((t) => t.check))) {
      ctx.addIssue({ code: "custom", path: ["track", at, "check"], message: `check ${check} is tracked twice` });
    }
    if (!group.preempt && group.preemptDelay > 0) {
      ctx.addIssue({ code: "custom", path: ["preemptDelay"], message: "preemptDelay needs preempt: true" });
    }
  })
  .meta({ id: "VipGroup" });
export type VipGroup = z.infer<typeof VipGroup>;

export const SyncGroup = z
  .strictObject({
    name: Ident,
    /** VIP groups that always move together to the same node. */
    vipGroups: z.array(Ident).min(2, { error: "a sync group joins at least two VIP groups" }).max(32),
    notify: NotifyHooks.default({}),
  })
  .superRefine((sync, ctx) => {
    for (const [name, at] of duplicates(sync.vipGroups)) {
      ctx.addIssue({ code: "custom", path: ["vipGroups", at], message: `VIP group ${name} is listed twice` });
    }
  })
  .meta({ id: "SyncGroup" });
export type SyncGroup = z.infer<typeof SyncGroup>;
