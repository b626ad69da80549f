/** What the API shows of a lease unit: who holds it, until when, and who could. */
import * as z from "zod";
import { COORDINATOR_LOSS_POLICIES } from "./vocabulary.js";

export const LeaseMemberView = z.object({
  node: z.string(),
  eligible: z.boolean(),
  /** Base priority with the tracked checks' weights applied (summed over a sync group's VIP groups). */
  priority: z.number(),
  /** Why the node may not hold the group now; empty when eligible. */
  reasons: z.array(z.string()),
});

export const LeaseView = z
  .object({
    /** The VIP group, or the sync group whose VIP groups move together. */
    group: z.string(),
    vipGroups: z.array(z.string()),
    holder: z.string().nullable(),
    epoch: z.number().int(),
    /** Milliseconds left on the holder's lease as it last reported it; null without a holder. */
    remainingMs: z.number().nullable(),
    /** Who should hold it now. */
    desired: z.string().nullable(),
    /** A switchover in progress: the node it moves to. */
    switchoverTo: z.string().nullable(),
    members: z.array(LeaseMemberView),
    /** What the agents do when they cannot reach the coordinator: quorum, release or hold. */
    onCoordinatorLoss: z.enum(COORDINATOR_LOSS_POLICIES),
    /**
     * Every voter on the lease (the members' agents, and `@coordinator`), whether it promises the
     * holder now and for how many more milliseconds, as the holder last reported it.
     */
    voters: z.array(z.object({ voter: z.string(), promised: z.boolean(), remainingMs: z.number().nullable() })),
    /** How many promises hold the lease. */
    majority: z.number().int(),
  })
  .meta({ id: "LeaseView" });
export type LeaseView = z.infer<typeof LeaseView>;
