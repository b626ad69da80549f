import { createHmac, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  checkHostKey,
  fingerprint,
  hostEntry,
  keysFor,
  knownHostsLine,
  preferredAlgorithms,
} from "../../cli/known-hosts.js";

/** An ssh-ed25519 public key blob, as a server presents it. */
function blob(): Buffer {
  const raw = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const type = Buffer.from("ssh-ed25519");
  const out = Buffer.alloc(4 + type.length + 4 + raw.length);
  out.writeUInt32BE(type.length, 0);
  type.copy(out, 4);
  out.writeUInt32BE(raw.length, 4 + type.length);
  raw.copy(out, 8 + type.length);
  return out;
}

const hashed = (name: string) => {
  const salt = Buffer.alloc(20, 3);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
};

describe("known_hosts", () => {
  const a = blob();
  const b = blob();
  const line = (host: string, key: Buffer) => `${host} ssh-ed25519 ${key.toString("base64")}`;

  it("writes [host]:port for ports other than 22, as ssh does", () => {
    expect(hostEntry("10.0.0.1", 22)).toBe("10.0.0.1");
    expect(hostEntry("10.0.0.1", 2222)).toBe("[10.0.0.1]:2222");
    expect(knownHostsLine("10.0.0.1", 2222, a)).toBe(line("[10.0.0.1]:2222", a));
  });

  it.each<[string, () => string, string]>([
    ["known by name", () => line("10.0.0.1", a), "known"],
    ["known in a pattern list", () => line("lb1,10.0.0.1", a), "known"],
    ["known by a hashed name", () => line(hashed("10.0.0.1"), a), "known"],
    ["known by a wildcard", () => line("10.0.0.*", a), "known"],
    ["excluded by a negation", () => line("10.0.0.*,!10.0.0.1", a), "new"],
    ["another port is another host", () => line("[10.0.0.1]:2222", a), "new"],
    ["a different key is a change", () => line("10.0.0.1", b), "changed"],
    ["a revoked key", () => `@revoked ${line("10.0.0.1", a)}`, "revoked"],
    ["comments and blank lines", () => `# ${line("10.0.0.1", a)}\n\n`, "new"],
  ])("%s", (_name, text, status) => {
    expect(checkHostKey(text(), "10.0.0.1", 22, a).status).toBe(status);
  });

  it("fingerprints as ssh-keygen -l does", () => {
    expect(fingerprint(a)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("asks a host for the key type it is known by", () => {
    const text = `10.0.0.1 ecdsa-sha2-nistp256 AAAA\n10.0.0.2 ssh-rsa AAAA`;
    expect(preferredAlgorithms(keysFor(text, "10.0.0.1", 22))).toEqual(["ecdsa-sha2-nistp256"]);
    expect(preferredAlgorithms(keysFor(text, "10.0.0.2", 22))).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
    expect(preferredAlgorithms(keysFor(text, "10.0.0.3", 22))[0]).toBe("ssh-ed25519");
  });
});
