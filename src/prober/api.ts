/** The Prober's RPC surface, as the rest of the Worker sees it (types only, so bindings can name it). */
import type { ProberStatus } from "../core/probe-shards.js";
import type { ObserverState } from "../core/rise-fall.js";
import type { Region } from "../core/vocabulary.js";

export interface ProberRpc extends Rpc.DurableObjectBranded {
  /** Starts or refreshes this prober; called on every configuration change and by the cron. */
  configure(cluster: string, region: Region, shard?: number): Promise<{ targets: number }>;
  /** Each target's observer state, for inspection. */
  observers(): Promise<Record<string, ObserverState & { attempt: number; nextDue: number }>>;
  /** Rows (storage keys) this instance wrote since it started: state changes, not probes. */
  rowsWritten(): Promise<number>;
  /** What this shard probes and what it was billed for since it started. */
  status(): Promise<ProberStatus>;
}
