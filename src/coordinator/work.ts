/**
 * Each agent's work: the lease units it is a member of and the checks it runs. Sent when it
 * connects and whenever it changes, never twice the same.
 */
import type { ClusterDocument } from "../core/cluster.js";
import type { AgentWork, Command } from "../core/command.js";
import { type LeaseUnit, specFor } from "../core/lease-units.js";
import { agentTargets } from "../core/targets.js";

export class WorkSender {
  /** The agent.work last sent to each node, so an unchanged one is not sent again. */
  private readonly sent = new Map<string, string>();
  private revision = 0;

  constructor(private readonly post: (node: string, command: Command) => Promise<void>) {}

  /** A node (re)connected: it gets its work again whatever it had. */
  forget(node: string): void {
    this.sent.delete(node);
  }

  async send(
    node: string,
    doc: ClusterDocument | null,
    units: LeaseUnit[],
    keys: ReadonlyMap<string, string>,
  ): Promise<void> {
    const probes = doc
      ? agentTargets(doc, node).map((t) => ({ target: t.id, check: t.check, address: t.address, port: t.port }))
      : [];
    const specs = units.map((u) => specFor(u, node, keys));
    const key = JSON.stringify({ units: specs, probes });
    if (this.sent.get(node) === key) return;
    this.sent.set(node, key);
    this.revision += 1;
    const work: AgentWork = { type: "agent.work", revision: this.revision, units: specs, probes };
    await this.post(node, work);
  }
}
