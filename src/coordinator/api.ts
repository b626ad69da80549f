/**
 * The Coordinator's RPC surface, as the rest of the Worker sees it. The object is addressed by
 * its cluster's name (`COORDINATOR.getByName(cluster)`) and knows that name itself, so no call
 * carries it. Reads (health, leases, backends, metrics) only read: they send no command and
 * write no row. This file imports types only, so the Worker's bindings can name the object
 * without importing it.
 */
import type { BackendsView } from "../core/backend-status.js";
import type { Command } from "../core/command.js";
import type { HealthReport } from "../core/health.js";
import type { Point } from "../core/history.js";
import type { LeaseView } from "../core/lease-view.js";
import type { CoordinatorMetrics } from "../core/metrics.js";
import type { VoteState } from "../core/vote.js";

export interface ObserverSeries {
  observer: string;
  points: Point[];
}

export interface IngestResult {
  accepted: number;
  /** Targets whose verdict changed, with the new state. */
  changed: { target: string; state: VoteState }[];
  /** True when the batch was older than one already seen from this observer. */
  stale: boolean;
  /** Why the whole batch was refused (it did not validate), or null. */
  rejected: string | null;
}

/** An agent's signed answer to a command. */
export interface CommandResult {
  ok: boolean;
  error: string | null;
  result: Record<string, unknown> | null;
  rttMs: number;
}

export interface SwitchoverResult {
  view: LeaseView | null;
  error: "not_found" | "conflict" | null;
  message: string | null;
}

export interface CoordinatorRpc extends Rpc.DurableObjectBranded {
  /** Agent connections: `/connect?node=...` with a WebSocket upgrade. */
  fetch(request: Request): Promise<Response>;
  /** One batch of votes from one observer (validated: observers are not trusted). */
  ingest(batch: unknown): Promise<IngestResult>;
  /** The configuration changed: take it now. */
  configChanged(): Promise<void>;
  health(): Promise<HealthReport>;
  leases(): Promise<LeaseView[]>;
  /** Each observer's minute (or coarser) figures for one target over [from, to), times in ms. */
  targetHistory(target: string, from: number, to: number, stepMs: number): Promise<ObserverSeries[]>;
  backends(): Promise<BackendsView>;
  /** Reads every director's live table now, then answers the view. */
  refreshBackends(): Promise<BackendsView>;
  metrics(): Promise<CoordinatorMetrics>;
  /** Moves a VIP group (or sync group) to a member and waits up to `waitMs` until it holds it. */
  switchover(group: string, to: string, waitMs: number): Promise<SwitchoverResult>;
  /** Drains a node (or undoes it) and waits up to `waitMs` until it holds nothing. */
  drain(node: string, drained: boolean, waitMs: number): Promise<{ holding: string[] }>;
  /** Sends a signed command to a node's agent and answers its signed ack, or why there is none. */
  sendCommand(node: string, command: Command): Promise<CommandResult | { notConnected: string }>;
  /** Drops a node's connections after its enrollment was reset. */
  revokeAgent(node: string): Promise<void>;
}
