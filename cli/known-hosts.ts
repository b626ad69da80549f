/**
 * OpenSSH's known_hosts, read the way ssh reads it: plain and hashed (`|1|salt|hash`) host
 * patterns, `[host]:port` for ports other than 22, `*` / `?` wildcards, `!` negation,
 * `@revoked` keys. A host is `known` when one of its entries holds the key it presented,
 * `changed` when it has entries but none holds that key, and `new` when it has none.
 */
import { createHash, createHmac } from "node:crypto";

export interface KnownKey {
  /** The key type as written: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa... */
  type: string;
  /** The public key blob, base64 as written. */
  key: string;
  revoked: boolean;
  line: number;
}

export type HostKeyCheck =
  | { status: "known"; line: number }
  | { status: "new" }
  | { status: "changed"; lines: number[] }
  | { status: "revoked"; line: number };

/** The name ssh looks up: `host`, or `[host]:port` when the port is not 22. */
export function hostEntry(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function glob(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const [, magic, salt, hash] = pattern.split("|");
  if (magic !== "1" || !salt || !hash) return false;
  return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
}

/** Whether a comma-separated pattern list names this host (a matching `!pattern` excludes it). */
export function patternsMatch(patterns: string, name: string): boolean {
  let matched = false;
  for (const p of patterns.split(",")) {
    if (p.startsWith("!")) {
      if (glob(p.slice(1), name)) return false;
    } else if (p.startsWith("|")) {
      if (hashedMatch(p, name)) matched = true;
    } else if (glob(p, name)) matched = true;
  }
  return matched;
}

/** The keys known_hosts holds for one host. */
export function keysFor(text: string, host: string, port: number): KnownKey[] {
  const name = hostEntry(host, port);
  const out: KnownKey[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    let words = line.split(/\s+/);
    let marker = "";
    if (words[0]?.startsWith("@")) {
      marker = words[0];
      words = words.slice(1);
    }
    const [patterns, type, key] = words;
    if (!patterns || !type || !key || marker === "@cert-authority") return;
    if (patternsMatch(patterns, name)) out.push({ type, key, revoked: marker === "@revoked", line: i + 1 });
  });
  return out;
}

/** The type written inside a public key blob (its first SSH string). */
export function blobType(blob: Buffer): string {
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString("latin1");
}

/** `SHA256:...` as ssh-keygen -l prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

export function checkHostKey(text: string, host: string, port: number, blob: Buffer): HostKeyCheck {
  const keys = keysFor(text, host, port);
  const presented = blob.toString("base64");
  const revoked = keys.find((k) => k.revoked && k.key === presented);
  if (revoked) return { status: "revoked", line: revoked.line };
  const live = keys.filter((k) => !k.revoked);
  const same = live.find((k) => k.key === presented);
  if (same) return { status: "known", line: same.line };
  return live.length === 0 ? { status: "new" } : { status: "changed", lines: live.map((k) => k.line) };
}

/** The line to append for a newly accepted key. */
export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${hostEntry(host, port)} ${blobType(blob)} ${blob.toString("base64")}`;
}

/**
 * Host key algorithms to offer, known types first: a host known by its ECDSA key is asked for
 * that one rather than presenting an ed25519 key that would look changed.
 */
export function preferredAlgorithms(known: KnownKey[]): string[] {
  const all = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
  ];
  const types = new Set(known.filter((k) => !k.revoked).map((k) => k.type));
  if (types.size === 0) return all;
  const wanted = all.filter((a) => types.has(a) || (a.startsWith("rsa-sha2-") && types.has("ssh-rsa")));
  return wanted.length > 0 ? wanted : all;
}
