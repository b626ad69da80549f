/** What the API shows of a lease unit: who holds it, until when, and who could. */
import { z } from "zod";

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
    /** Milliseconds left on the holder's lease, coordinator's clock; null without a holder. */
    remainingMs: z.number().nullable(),
    /** Who should hold it now. */
    desired: z.string().nullable(),
    /** A switchover in progress: the node it moves to. */
    switchoverTo: z.string().nullable(),
    members: z.array(LeaseMemberView),
  })
  .meta({ id: "LeaseView" });
export type LeaseView = z.infer<typeof LeaseView>;
