/** script: a program's exit status, run by the agent only if its allowlist names it (keepalived: MISC_CHECK, vrrp_script). */
import * as z from "zod";
import { Exec } from "../../primitives.js";

export const ScriptParams = z.strictObject({
  type: z.literal("script"),
  /** Exit status 0 is up, anything else down (MISC_CHECK / vrrp_script). */
  exec: Exec,
});
