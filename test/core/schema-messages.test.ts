/**
 * Every message a schema gives for a bad value, at the field it names: what an operator reads
 * in a 400 from the API or a refused command. And the edges of each pattern: the longest name
 * that is still good, the first character that may not start one, a bad character at either end.
 */
import { describe, expect, it } from "vitest";
import type * as z from "zod";
import { Check } from "../../src/core/check.js";
import { KeyId } from "../../src/core/envelope.js";
import { formatPath } from "../../src/core/errors.js";
import { EventQuery } from "../../src/core/event.js";
import {
  Argument,
  Cidr,
  ExecPath,
  HostName,
  Ident,
  InterfaceName,
  IpAddress,
  intRange,
  Labels,
  Port,
  seconds,
  Text,
} from "../../src/core/primitives.js";
import { EnrollRequest } from "../../src/core/token.js";
import { Vip } from "../../src/core/vip-group.js";
import { Persistence } from "../../src/core/virtual-service.js";
import { ObserverId } from "../../src/core/vote.js";
import { WebhookSecret } from "../../src/core/webhook.js";

/** "ok", or the first issue as `path: message`. */
function verdict(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  if (result.success) return "ok";
  const issue = result.error.issues[0];
  return `${formatPath(issue?.path ?? [])}: ${issue?.message}`;
}

const NAME = "expected a name of 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit";
const IFACE = "expected a Linux interface name of 1-15 letters, digits, '_', '.' or '-'";
const key = "A".repeat(42);

describe("schema messages", () => {
  it.each<[string, z.ZodType, unknown, string]>([
    ["a name of 64", Ident, `a${"b".repeat(63)}`, "ok"],
    ["a name of 65", Ident, `a${"b".repeat(64)}`, `(body): ${NAME}`],
    ["a name starting with '-'", Ident, "-a", `(body): ${NAME}`],
    ["a name ending in '!'", Ident, "a!", `(body): ${NAME}`],
    ["a name with every allowed character", Ident, "Az09_.-", "ok"],
    ["an empty name", Ident, "", `(body): ${NAME}`],
    ["an IPv4 address", IpAddress, "192.168.88.15", "ok"],
    ["an IPv6 address", IpAddress, "2001:db8::1", "ok"],
    ["not an address", IpAddress, "192.168.88", "(body): expected an IPv4 or IPv6 address like 192.168.88.15"],
    ["an IPv6 CIDR", Cidr, "2001:db8::1/64", "ok"],
    ["a CIDR without prefix", Cidr, "10.0.0.1", "(body): expected an address with prefix length like 192.168.88.15/24"],
    ["port text", Port, "80", "(body): expected a port number"],
    ["port 1.5", Port, 1.5, "(body): expected an integer port"],
    ["port 0", Port, 0, "(body): expected a port from 1 to 65535"],
    ["port 65536", Port, 65536, "(body): expected a port from 1 to 65535"],
    ["ports 1 and 65535", Port, 1, "ok"],
    ["port 65535", Port, 65535, "ok"],
    ["an interface of 15", InterfaceName, `e${"t".repeat(14)}`, "ok"],
    ["an interface of 16", InterfaceName, `e${"t".repeat(15)}`, `(body): ${IFACE}`],
    ["an interface with ':'", InterfaceName, "eth0:1", `(body): ${IFACE}`],
    ["an interface starting with '.'", InterfaceName, ".eth0", `(body): ${IFACE}`],
    ["seconds as text", seconds(1, 10), "1", "(body): expected a number of seconds"],
    ["seconds below", seconds(1, 10), 0.5, "(body): expected at least 1 s"],
    ["seconds above", seconds(1, 10), 10.5, "(body): expected at most 10 s"],
    ["seconds at both ends", seconds(1, 10), 10, "ok"],
    ["an integer as text", intRange(0, 5), "1", "(body): expected an integer"],
    ["a fraction", intRange(0, 5), 1.5, "(body): expected an integer"],
    ["an integer below", intRange(0, 5), -1, "(body): expected an integer from 0 to 5"],
    ["an integer above", intRange(0, 5), 6, "(body): expected an integer from 0 to 5"],
    ["a relative path", ExecPath, "bin/check", "(body): expected an absolute path without control characters"],
    ["a path with a newline", ExecPath, "/bin/a\nb", "(body): expected an absolute path without control characters"],
    ["a path with a NUL", ExecPath, "/bin/a\0", "(body): expected an absolute path without control characters"],
    ["a path with a CR", ExecPath, "/bin/a\rb", "(body): expected an absolute path without control characters"],
    ["a path of 4096", ExecPath, `/${"a".repeat(4095)}`, "ok"],
    ["a path of 4097", ExecPath, `/${"a".repeat(4096)}`, "(body): Too big: expected string to have <=4096 characters"],
    ["an argument with a NUL", Argument, "a\0b", "(body): arguments may not contain NUL bytes"],
    ["an argument with a newline", Argument, "a\nb", "ok"],
    ["an argument of 4097", Argument, "a".repeat(4097), "(body): Too big: expected string to have <=4096 characters"],
    ["text with a NUL", Text, "a\0", "(body): text may not contain NUL bytes"],
    ["text of 1025", Text, "a".repeat(1025), "(body): Too big: expected string to have <=1024 characters"],
    ["text of 1024 over lines", Text, `a\n${"b".repeat(1022)}`, "ok"],
    ["a host name", HostName, "www.example.com.", "ok"],
    ["a host name with a space", HostName, "www example.com", "(body): expected a host name like www.example.com"],
    [
      "a host name starting with '-'",
      HostName,
      "-www.example.com",
      "(body): expected a host name like www.example.com",
    ],
    ["a host label of 64", HostName, `${"a".repeat(64)}.com`, "(body): expected a host name like www.example.com"],
    ["a host label of 63", HostName, `${"a".repeat(63)}.com`, "ok"],
    ["a label key with a space", Labels, { "a b": "x" }, "a b: expected a label key of 1-63 characters"],
    ["a label key of 63", Labels, { [`a${"b".repeat(62)}`]: "x" }, "ok"],
    [
      "a label key of 64",
      Labels,
      { [`a${"b".repeat(63)}`]: "x" },
      `${`a${"b".repeat(63)}`}: expected a label key of 1-63 characters`,
    ],
    ["a label value with a newline", Labels, { rack: "r1\n" }, "rack: label values may not contain control characters"],
    ["a label value with a CR", Labels, { rack: "r\r1" }, "rack: label values may not contain control characters"],
    [
      "65 labels",
      Labels,
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])),
      "(body): expected at most 64 labels",
    ],
    ["64 labels", Labels, Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v"])), "ok"],
    ["a key id", KeyId, "agent:lb1", "ok"],
    ["an observer", ObserverId, "agent:lb1", "ok"],
    ["an observer of another kind", ObserverId, "probe:x", "(body): expected region:<name> or agent:<node>"],
    ["an observer with a bad name", ObserverId, "region:-x", "(body): expected region:<name> or agent:<node>"],
    ["an observer with text after it", ObserverId, "region:weur!", "(body): expected region:<name> or agent:<node>"],
    ["an observer with text before it", ObserverId, "xregion:weur", "(body): expected region:<name> or agent:<node>"],
    ["a webhook secret", WebhookSecret, `whsec_${"A".repeat(32)}`, "ok"],
    ["a webhook secret of 88 and padding", WebhookSecret, `whsec_${"A".repeat(88)}==`, "ok"],
    [
      "a webhook secret too short",
      WebhookSecret,
      `whsec_${"A".repeat(31)}`,
      "(body): expected a secret like whsec_ followed by base64 of 24-64 bytes",
    ],
    [
      "a webhook secret too long",
      WebhookSecret,
      `whsec_${"A".repeat(89)}`,
      "(body): expected a secret like whsec_ followed by base64 of 24-64 bytes",
    ],
    [
      "a webhook secret without its prefix",
      WebhookSecret,
      `x${"A".repeat(40)}`,
      "(body): expected a secret like whsec_ followed by base64 of 24-64 bytes",
    ],
    [
      "a public key one short",
      EnrollRequest,
      { token: "t".repeat(10), node: "lb1", publicKey: key },
      "publicKey: expected a 32-byte Ed25519 public key in base64url",
    ],
    [
      "a public key with '+'",
      EnrollRequest,
      { token: "t".repeat(10), node: "lb1", publicKey: `${key}+` },
      "publicKey: expected a 32-byte Ed25519 public key in base64url",
    ],
    [
      "the all-zero public key",
      EnrollRequest,
      { token: "t".repeat(10), node: "lb1", publicKey: "A".repeat(43) },
      "publicKey: expected a real Ed25519 public key, not a weak one",
    ],
    [
      "a VIP label too long",
      Vip,
      { cidr: "10.0.0.1/24", interface: "eth0", label: "eth0:abcdefghijk" },
      "label: a label is at most 15 characters",
    ],
    [
      "a VIP label without a suffix",
      Vip,
      { cidr: "10.0.0.1/24", interface: "eth0", label: "eth0:" },
      "label: expected a label like eth0:vip (interface, ':', suffix)",
    ],
    [
      "a VIP label for another interface",
      Vip,
      { cidr: "10.0.0.1/24", interface: "eth0", label: "eth1:vip" },
      'label: label must start with "eth0:" (the interface name)',
    ],
    [
      "a netmask with a hole",
      Persistence,
      { timeout: 60, netmask: "255.0.255.0" },
      "netmask: expected a contiguous netmask like 255.255.255.0",
    ],
    [
      "a netmask of another kind",
      Persistence,
      { timeout: 60, netmask: true },
      "netmask: expected a netmask like 255.255.255.0 or a prefix length",
    ],
    [
      "an HTTP header name with a space",
      Check,
      { name: "h", type: "http", observers: { regions: ["weur"] }, headers: { "X A": "1" } },
      "headers.X A: expected an HTTP header name",
    ],
    ["a prefix length", Persistence, { timeout: 60, netmask: 64 }, "ok"],
    [
      "an event time without a zone",
      EventQuery,
      { after: "2026-01-31 12:00" },
      "after: expected an ISO 8601 time like 2026-01-31T12:00:00Z",
    ],
    [
      "an event time, before",
      EventQuery,
      { before: "yesterday" },
      "before: expected an ISO 8601 time like 2026-01-31T12:00:00Z",
    ],
  ])("%s", (_name, schema, value, want) => {
    expect(verdict(schema, value)).toBe(want);
  });
});
