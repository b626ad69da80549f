/** process: a process of this name runs on the agent's host (keepalived: track_process). */
import * as z from "zod";

/** A process is alive on the agent's host: its name as /proc/<pid>/comm shows it (at most 15 characters). */
export const ProcessParams = z.strictObject({
  type: z.literal("process"),
  name: z.string().regex(/^[^/\0\n]{1,15}$/, { error: "expected a process name of 1-15 characters, as ps shows it" }),
});
