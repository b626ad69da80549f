/** icmp: one echo request answered (agents only: Workers cannot send ICMP). */
import * as z from "zod";

export const IcmpParams = z.strictObject({ type: z.literal("icmp") });
