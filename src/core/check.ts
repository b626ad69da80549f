/**
 * A check: what is probed, how, how often, by whom, and how many observers must agree.
 * keepalived: TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, MISC_CHECK and vrrp_script. Each type's
 * parameters live in src/core/checks/<type>/; this file adds the schedule, observers and quorum.
 */
import * as z from "zod";
import { AGENT_ONLY_CHECK_TYPES, checkVariants } from "./checks/index.js";
import { duplicates } from "./collections.js";
import { Ident, intRange, seconds } from "./primitives.js";
import { REGIONS } from "./vocabulary.js";

export const CheckParams = z.discriminatedUnion("type", checkVariants({}));
export type CheckParams = z.infer<typeof CheckParams>;

export const Observers = z.strictObject({
  regions: z.array(z.enum(REGIONS)).default([]),
  /** Node names whose agents probe from inside the LAN. */
  agents: z.array(Ident).default([]),
});
export type Observers = z.infer<typeof Observers>;

/** How many fresh votes must agree: a majority of observers, all of them, or a count. */
export const Quorum = z.union([z.literal("majority"), z.literal("all"), intRange(1, 64)], {
  error: 'expected "majority", "all" or a number of observers',
});
export type Quorum = z.infer<typeof Quorum>;

const Schedule = {
  name: Ident,
  /** keepalived's delay_loop. */
  interval: seconds(1, 3600).default(5),
  /** keepalived's connect_timeout. */
  timeout: seconds(0.1, 60).default(3),
  /** keepalived's retry / nb_get_retry: extra attempts before the check fails. */
  retries: intRange(0, 10).default(1),
  delayBeforeRetry: seconds(0, 60).default(1),
  rise: intRange(1, 100).default(2),
  fall: intRange(1, 100).default(3),
  observers: Observers,
  quorum: Quorum.default("majority"),
};

export const Check = z
  .discriminatedUnion("type", checkVariants(Schedule))
  .superRefine((check, ctx) => {
    if (check.timeout >= check.interval) {
      ctx.addIssue({ code: "custom", path: ["timeout"], message: "timeout must be shorter than interval" });
    }
    const observers = check.observers.regions.length + check.observers.agents.length;
    if (observers === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["observers"],
        message: "name at least one region or agent to run this check",
      });
    }
    if (typeof check.quorum === "number" && check.quorum > observers) {
      ctx.addIssue({
        code: "custom",
        path: ["quorum"],
        message: `quorum ${check.quorum} is more than the ${observers} observer(s) named`,
      });
    }
    if ((AGENT_ONLY_CHECK_TYPES as readonly string[]).includes(check.type) && check.observers.regions.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["observers", "regions"],
        message: `${check.type} checks run on agents only; remove the regions`,
      });
    }
    if ("expect" in check && check.expect !== undefined && check.send === undefined) {
      ctx.addIssue({ code: "custom", path: ["expect"], message: "expect needs send" });
    }
    for (const [dup, at] of duplicates(check.observers.regions)) {
      ctx.addIssue({ code: "custom", path: ["observers", "regions", at], message: `region ${dup} is listed twice` });
    }
    for (const [dup, at] of duplicates(check.observers.agents)) {
      ctx.addIssue({ code: "custom", path: ["observers", "agents", at], message: `agent ${dup} is listed twice` });
    }
  })
  .meta({ id: "Check", description: "What is probed and how; a real server or VIP group refers to it by name." });
export type Check = z.infer<typeof Check>;
