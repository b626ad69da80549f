/**
 * Prober Durable Object: one per cluster and region, placed with a locationHint. It will run
 * the cluster's checks on an alarm loop; for now it reports its placement.
 */
import { DurableObject } from "cloudflare:workers";
import type { Region } from "../src/core/vocabulary.js";

export class Prober extends DurableObject {
  async describe(cluster: string, region: Region): Promise<{ cluster: string; region: Region }> {
    return { cluster, region };
  }
}
