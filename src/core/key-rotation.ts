/**
 * Coordinator keys pinned by an agent, brought in line with the keys the coordinator offers
 * (VIGIL_COORDINATOR_KEY: the first signs, all are offered). On each hello the agent says
 * which key ids it pins; the coordinator sends it a `key.rotate`, signed with its signing key,
 * for each offered key it lacks, the last of them (or one for the signing key alone) retiring
 * the pinned keys no longer offered. To rotate: add the new key second, wait until every agent
 * pinned it (each does on its next hello), put it first, and finally drop the old one.
 */
import { type Command, KEY_RETIRE_MAX } from "./command.js";

type KeyRotate = Extract<Command, { type: "key.rotate" }>;

export function rotations(
  offered: readonly { kid: string; publicKey: string }[],
  pinned: readonly string[],
): { commands: KeyRotate[]; problem: string | null } {
  const [signing] = offered;
  if (!signing) return { commands: [], problem: null };
  // The agent could verify nothing signed with a key it does not pin, this rotation included.
  if (!pinned.includes(signing.kid))
    return {
      commands: [],
      problem: `it does not pin the signing key ${signing.kid} (it pins ${pinned.join(", ") || "nothing"}): put a key it pins first until it has pinned ${signing.kid}`,
    };
  const missing = offered.filter((k) => !pinned.includes(k.kid));
  const retire = pinned.filter((kid) => !offered.some((k) => k.kid === kid)).slice(0, KEY_RETIRE_MAX);
  const pins = missing.length > 0 ? missing : retire.length > 0 ? [signing] : [];
  return {
    commands: pins.map((k, i) => ({
      type: "key.rotate",
      kid: k.kid,
      publicKey: k.publicKey,
      retire: i === pins.length - 1 ? retire : [],
    })),
    problem: null,
  };
}
