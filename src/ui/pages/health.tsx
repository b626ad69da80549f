/**
 * Health matrix: targets x observers, each cell a vote (latency and last error on hover), the
 * quorum verdict per row; each target links to its history (`?target=`, src/ui/pages/target.tsx).
 */
import type { HealthReport } from "../../core/health.js";
import type { UiApi } from "../api.js";
import { State } from "../layout.js";
import { type TargetData, TargetDetail } from "./target.js";

export async function loadHealth(api: UiApi, cluster: string): Promise<HealthReport> {
  return api.get<HealthReport>(`/v1/clusters/${encodeURIComponent(cluster)}/health`);
}

function cellTitle(o: HealthReport["targets"][number]["observers"][number]): string {
  const parts = [`${o.observer}: ${o.state}`];
  if (o.latencyMs !== null) parts.push(`${o.latencyMs} ms`);
  if (o.error) parts.push(`last error: ${o.error}`);
  if (!o.fresh) parts.push("no fresh vote");
  return parts.join(" · ");
}

export function HealthMain(props: { report: HealthReport; cluster: string; target: TargetData | null }) {
  const observers = [...new Set(props.report.targets.flatMap((t) => t.observers.map((o) => o.observer)))].sort();
  const c = encodeURIComponent(props.cluster);
  return (
    <>
      {props.target ? <TargetDetail data={props.target} /> : null}
      <form class="filters" aria-label="Filter targets" onsubmit="return false">
        <label>
          Name <input type="search" id="filter-text" aria-label="Search targets by name" autocomplete="off" />
        </label>
        <label>
          State{" "}
          <select id="filter-state" aria-label="Show targets in state">
            <option value="">any</option>
            <option value="up">up</option>
            <option value="down">down</option>
            <option value="degraded">degraded</option>
            <option value="unknown">unknown</option>
          </select>
        </label>
      </form>
      <div class="scroll">
        <table class="matrix" aria-label="Votes by observer">
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">Verdict</th>
              {observers.map((o) => (
                <th scope="col">{o}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.report.targets.map((t) => {
              const byObserver = new Map(t.observers.map((o) => [o.observer, o]));
              return (
                <tr data-name={t.target} data-state={t.verdict.state}>
                  <th scope="row">
                    <a href={`/ui/clusters/${c}/health?target=${encodeURIComponent(t.target)}`}>{t.target}</a>
                    <small>
                      {t.check} · {t.address}
                      {t.port ? `:${t.port}` : ""}
                    </small>
                  </th>
                  <td>
                    <State state={t.verdict.state} />
                    <small>
                      {t.verdict.fresh}/{t.verdict.required} fresh
                    </small>
                  </td>
                  {observers.map((name) => {
                    const o = byObserver.get(name);
                    if (!o) return <td class="cell s-none">–</td>;
                    return (
                      <td class={`cell s-${o.state}`} title={cellTitle(o)} data-observer={name}>
                        {o.state}
                        {o.latencyMs !== null ? <small>{o.latencyMs} ms</small> : null}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {props.report.targets.length === 0 ? <p>No targets yet: add checks and real servers to this cluster.</p> : null}
    </>
  );
}
