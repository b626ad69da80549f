/**
 * `vigil-agent enroll`: make an Ed25519 key pair here, register its public half with a
 * single-use enrollment token, pin the coordinator's keys. The private key never leaves.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { EMPTY_CURSOR, newKeyPair } from "../../src/core/envelope.js";
import { Enrollment } from "../../src/core/token.js";
import type { StateStore } from "./state.js";

export interface EnrollOptions {
  url: string;
  token: string;
  node: string;
  configPath: string;
  stateDir: string;
}

export class EnrollError extends Error {}

export async function enroll(options: EnrollOptions, state: StateStore): Promise<Enrollment> {
  const existing = state.identity();
  if (existing) {
    throw new EnrollError(
      `already enrolled as ${existing.node} in cluster ${existing.cluster}; to enroll again, an admin resets the node ` +
        `(DELETE /v1/clusters/${existing.cluster}/nodes/${existing.node}/enrollment) and you remove ${path.join(state.dir, "identity.json")}`,
    );
  }
  const keys = await newKeyPair();
  let response: Response;
  try {
    response = await fetch(new URL("/v1/enroll", options.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: options.token, node: options.node, publicKey: keys.publicKey }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new EnrollError(`cannot reach ${options.url}: ${(err as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (response.status !== 201) {
    throw new EnrollError(
      `the control plane refused the enrollment (${response.status}): ${body?.error?.message ?? "no reason given"}`,
    );
  }
  const enrollment = Enrollment.parse(body);
  state.saveIdentity({
    cluster: enrollment.cluster,
    node: enrollment.node,
    agentKid: enrollment.agentKid,
    seed: keys.seed,
    publicKey: keys.publicKey,
    coordinatorKeys: Object.fromEntries(enrollment.coordinatorKeys.map((k) => [k.kid, k.publicKey])),
    enrolledAt: new Date().toISOString(),
  });
  // A new enrollment starts a new replay cursor: the old one would refuse the first commands as REPLAY.
  state.saveCursor(EMPTY_CURSOR);
  state.remove("channel.json");
  if (!existsSync(options.configPath)) {
    mkdirSync(path.dirname(options.configPath), { recursive: true, mode: 0o700 });
    const config = { url: options.url, cluster: enrollment.cluster, node: enrollment.node, stateDir: options.stateDir };
    writeFileSync(options.configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }
  return enrollment;
}
