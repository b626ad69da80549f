/**
 * Small validated values shared by every resource: names, addresses, durations.
 * Everything that may later reach `ip`, `ipvsadm` or a HAProxy runtime-API line is
 * narrowed here, so a newline or a semicolon never gets past the API.
 */
import * as z from "zod";

/** A resource name: what keepalived calls an instance name, HAProxy a backend or server name. */
export const Ident = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
  error: "expected a name of 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit",
});

export const IpAddress = z.union([z.ipv4(), z.ipv6()], {
  error: "expected an IPv4 or IPv6 address like 192.168.88.15",
});

export const Cidr = z.union([z.cidrv4(), z.cidrv6()], {
  error: "expected an address with prefix length like 192.168.88.15/24",
});

export const Port = z
  .number({ error: "expected a port number" })
  .int({ error: "expected an integer port" })
  .min(1, { error: "expected a port from 1 to 65535" })
  .max(65535, { error: "expected a port from 1 to 65535" });

/** A Linux interface name: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace. */
export const InterfaceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, {
  error: "expected a Linux interface name of 1-15 letters, digits, '_', '.' or '-'",
});

/** Durations are seconds, as in keepalived.conf; fractions are allowed where noted. */
export function seconds(min: number, max: number) {
  return z
    .number({ error: "expected a number of seconds" })
    .min(min, { error: `expected at least ${min} s` })
    .max(max, { error: `expected at most ${max} s` });
}

export function intRange(min: number, max: number) {
  return z
    .number({ error: "expected an integer" })
    .int({ error: "expected an integer" })
    .min(min, { error: `expected an integer from ${min} to ${max}` })
    .max(max, { error: `expected an integer from ${min} to ${max}` });
}

/** An absolute path to an executable, run with an argv list (never through a shell). */
export const ExecPath = z
  .string()
  .max(4096)
  .regex(/^\/[^\0\r\n]*$/, { error: "expected an absolute path without control characters" });

export const Argument = z
  .string()
  .max(4096)
  .regex(/^[^\0]*$/, { error: "arguments may not contain NUL bytes" });

/** A program and its arguments, as keepalived's notify and MISC_CHECK scripts, but as argv. */
export const Exec = z.strictObject({
  path: ExecPath,
  args: z.array(Argument).max(32).default([]),
});
export type Exec = z.infer<typeof Exec>;

/** Free text for descriptions and notes. */
export const Text = z
  .string()
  .max(1024)
  .regex(/^[^\0]*$/, { error: "text may not contain NUL bytes" });

/** DNS host name, for Host headers and TLS server names. */
export const HostName = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/, {
    error: "expected a host name like www.example.com",
  });

/**
 * A record whose bad key is refused with the key schema's own message (zod alone says only
 * "Invalid key in record").
 */
export function recordOf<V extends z.ZodType>(key: z.ZodString, value: V) {
  return z.record(key, value, {
    error: (issue) => (issue.code === "invalid_key" ? issue.issues[0]?.message : undefined),
  });
}

const MAX_LABELS = 64;

/** Labels on nodes, like Kubernetes labels: `rack: r12`. */
export const Labels = recordOf(
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/, { error: "expected a label key of 1-63 characters" }),
  z
    .string()
    .max(128)
    .regex(/^[^\0\r\n]*$/, { error: "label values may not contain control characters" }),
)
  .refine((labels) => Object.keys(labels).length <= MAX_LABELS, { error: `expected at most ${MAX_LABELS} labels` })
  .default({});

/** An IPv4 address written as IPv6 (`::ffff:10.0.0.9`): the IPv4 traffic it stands for goes to the IPv4 form. */
export function isIpv4Mapped(address: string): boolean {
  return /^::ffff:(0:)?/i.test(address) || /^0{0,4}(:0{0,4}){4}:ffff:/i.test(address);
}

/**
 * The address part of a CIDR or address in one canonical form, so that equal addresses
 * compare equal: IPv6 fully expanded in lowercase (`2001:DB8::1` and `2001:db8:0::1` agree).
 */
export function hostPart(cidrOrAddress: string): string {
  const slash = cidrOrAddress.indexOf("/");
  const host = (slash < 0 ? cidrOrAddress : cidrOrAddress.slice(0, slash)).toLowerCase();
  return host.includes(":") ? expandIpv6(host) : host;
}

function expandIpv6(address: string): string {
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  // An empty group (either side of "::", or what "::" stands for) pads to 0000 like any other.
  const [head, tail] = text.split("::") as [string, string?];
  const left = head.split(":");
  const right = tail?.split(":") ?? [];
  // Math.max: a malformed address with more than eight groups is compared as written, not thrown on.
  const zeros = Array(Math.max(0, 8 - left.length - right.length)).fill("");
  return [...left, ...zeros, ...right].map((g) => g.padStart(4, "0")).join(":");
}
