/**
 * Every check type, one folder each: its parameters' schema, and its judge where the result
 * needs judging. A new type is a new folder, its name and its variant here, and its
 * transports (edge/probes.ts for region observers, host-agent/src/probes.ts for agents).
 */
import type * as z from "zod";
import { HttpParams, HttpsParams } from "./http/schema.js";
import { IcmpParams } from "./icmp/schema.js";
import { InterfaceParams } from "./interface/schema.js";
import { ProcessParams } from "./process/schema.js";
import { ScriptParams } from "./script/schema.js";
import { SmtpParams } from "./smtp/schema.js";
import { TcpParams } from "./tcp/schema.js";
import { TlsParams } from "./tls/schema.js";

/** The check types, for the storage column and the API; test/core/schemas.test.ts holds them to the variants below. */
export const CHECK_TYPES = ["http", "https", "tcp", "tls", "smtp", "icmp", "script", "process", "interface"] as const;
export type CheckType = (typeof CHECK_TYPES)[number];

/** Check types that only an agent inside the LAN can run (edge Workers cannot ping or exec). */
export const AGENT_ONLY_CHECK_TYPES = [
  "icmp",
  "script",
  "process",
  "interface",
] as const satisfies readonly CheckType[];

/** Every check type's parameters with `extra` fields (the schedule) added: the members of a discriminated union. */
export function checkVariants<S extends z.core.$ZodLooseShape>(extra: S) {
  return [
    HttpParams.extend(extra),
    HttpsParams.extend(extra),
    TcpParams.extend(extra),
    TlsParams.extend(extra),
    SmtpParams.extend(extra),
    IcmpParams.extend(extra),
    ScriptParams.extend(extra),
    ProcessParams.extend(extra),
    InterfaceParams.extend(extra),
  ] as const;
}
