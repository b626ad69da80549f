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

/** The install command with the release key, or null when no signed release is served. */
export async function loadInstall(api: UiApi): Promise<{ releaseKey: string; installCommand: string } | null> {
  const served = await api.call("GET", "/v1/release-key");
  return served.status === 200 ? served.body : null;
}

export function OverviewMain(props: {
  clusters: ClusterSummary[];
  install: { releaseKey: string; installCommand: string } | null;
}) {
  return (
    <>
      {props.clusters.length === 0 ? <p>No clusters yet: create one with POST /v1/clusters.</p> : null}
      {props.install ? (
        <section class="card" aria-label="Install an agent">
          <h2>Install an agent</h2>
          <p>
            Put a single-use enrollment token in /root/vigil-token on the director, then run (NODE is its node name):
          </p>
          <pre>
            <code>{props.install.installCommand}</code>
          </pre>
          <p>
            Release key <code data-release-key>{props.install.releaseKey}</code>: compare it with the key your build
            printed before you run this, since a tampered server could show another.
          </p>
        </section>
      ) : null}
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
