/** Clusters overview: per cluster, targets by verdict, VIP groups and holders, agents online, latest events. */
import type { Event } from "../../core/event.js";
import type { HealthReport } from "../../core/health.js";
import type { LeaseView } from "../../core/lease-view.js";
import type { UiApi } from "../api.js";
import { ago, State } from "../layout.js";

export interface ClusterSummary {
  name: string;
  counts: Record<"up" | "down" | "degraded" | "unknown", number>;
  leases: LeaseView[];
  agents: { online: number; total: number };
  events: Event[];
}

export async function loadOverview(api: UiApi): Promise<ClusterSummary[]> {
  const clusters = await api.get<{ name: string }[]>("/v1/clusters");
  return Promise.all(
    clusters.map(async ({ name }) => {
      const c = encodeURIComponent(name);
      const [health, leases, nodes, events] = await Promise.all([
        api.get<HealthReport>(`/v1/clusters/${c}/health`),
        api.get<LeaseView[]>(`/v1/clusters/${c}/leases`),
        api.get<{ status?: { online: boolean } }[]>(`/v1/clusters/${c}/nodes`),
        api.get<Event[]>(`/v1/clusters/${c}/events?limit=5`),
      ]);
      const counts = { up: 0, down: 0, degraded: 0, unknown: 0 };
      for (const t of health.targets) counts[t.verdict.state] += 1;
      return {
        name,
        counts,
        leases,
        agents: { online: nodes.filter((n) => n.status?.online).length, total: nodes.length },
        events,
      };
    }),
  );
}

export function OverviewMain(props: { clusters: ClusterSummary[] }) {
  return (
    <>
      {props.clusters.length === 0 ? <p>No clusters yet: create one with POST /v1/clusters.</p> : null}
      <div class="cards">
        {props.clusters.map((c) => (
          <section class="card" aria-label={`Cluster ${c.name}`}>
            <h2>
              <a href={`/ui/clusters/${encodeURIComponent(c.name)}/health`}>{c.name}</a>
            </h2>
            <p class="counts">
              {(["up", "down", "degraded", "unknown"] as const).map((s) => (
                <span class={`count s-${s}`}>
                  <strong data-count={s}>{c.counts[s]}</strong> {s}
                </span>
              ))}
            </p>
            <p>
              Agents online: {c.agents.online} of {c.agents.total}
            </p>
            <ul aria-label="VIP groups">
              {c.leases.map((l) => (
                <li>
                  {l.group}: {l.holder ? <strong>{l.holder}</strong> : <State state="down" />} (epoch {l.epoch})
                </li>
              ))}
            </ul>
            <ol class="events" aria-label="Latest events">
              {c.events.map((e) => (
                <li>
                  <time datetime={e.at}>{ago(e.at)}</time> <State state={e.severity} /> {e.type} {e.subject}
                </li>
              ))}
            </ol>
          </section>
        ))}
      </div>
    </>
  );
}
