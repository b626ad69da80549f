/**
 * One target on the health page (`?target=web/web1`): latency over the last 24 h with one line
 * per observer and the down periods shaded (drawn by app.js with uPlot from the data in the
 * element's data-series attribute), uptime bars for 24 h and 90 days, and the latest minutes as a table that needs no script.
 */
import { type DownPeriod, uptime } from "../../core/history-periods.js";
import type { UiApi } from "../api.js";

interface Point {
  at: string;
  probes: number;
  failures: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

interface TargetHistory {
  target: string;
  from: string;
  to: string;
  observers: { observer: string; points: Point[] }[];
  down: DownPeriod[];
}

export interface TargetData {
  day: TargetHistory;
  quarter: TargetHistory;
}

const DAY_MS = 86_400_000;

export async function loadTarget(api: UiApi, cluster: string, target: string): Promise<TargetData> {
  const base = `/v1/clusters/${encodeURIComponent(cluster)}/targets/${encodeURIComponent(target)}/history`;
  const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
  const quarterFrom = new Date(to.getTime() - 90 * DAY_MS).toISOString();
  const [day, quarter] = await Promise.all([
    api.get<TargetHistory>(base),
    api.get<TargetHistory>(`${base}?from=${quarterFrom}&to=${to.toISOString()}&step=86400`),
  ]);
  return { day, quarter };
}

/** The chart's data as app.js reads it: times in seconds, one p50 line per observer, down periods. */
function chartData(h: TargetHistory) {
  const times = [...new Set(h.observers.flatMap((o) => o.points.map((p) => Date.parse(p.at))))].sort((a, b) => a - b);
  // A target with less than a day of history (a new one, the demo) is drawn from shortly before its first minute.
  const from = Math.max(Date.parse(h.from), (times[0] ?? Date.parse(h.from)) - 10 * 60_000);
  return {
    title: `${h.target}: latency (p50, ms)`,
    from: from / 1000,
    to: Date.parse(h.to) / 1000,
    x: times.map((t) => t / 1000),
    series: h.observers.map((o) => {
      const byTime = new Map(o.points.map((p) => [Date.parse(p.at), p.p50Ms]));
      return { label: o.observer, values: times.map((t) => byTime.get(t) ?? null) };
    }),
    down: h.down.map((d) => [
      Date.parse(d.from) / 1000,
      d.to === null ? Date.parse(h.to) / 1000 : Date.parse(d.to) / 1000,
    ]),
  };
}

/** A share as a percentage that reads 100% only when it is: 99.999% rather than a rounded 100.00%. */
function percent(share: number): string {
  return share >= 1 ? "100%" : `${(Math.floor(share * 100_000) / 1000).toFixed(3)}%`;
}

function duration(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Uptime as status pages draw it: one bar per slice, its share up as its shade. */
function UptimeBar(props: {
  label: string;
  down: DownPeriod[];
  from: string;
  to: string;
  segments: number;
  unit: string;
}) {
  const from = Date.parse(props.from);
  const to = Date.parse(props.to);
  const shares = uptime(props.down, from, to, props.segments);
  const total = shares.reduce((a, b) => a + b, 0) / shares.length;
  const downMs = (1 - total) * (to - from);
  const w = 1000 / props.segments;
  return (
    <figure class="uptime" aria-label={`${props.label} uptime`}>
      <figcaption>
        {props.label}: <strong data-field="uptime">{percent(total)}</strong> up
        {downMs > 0 ? <span data-field="down-for">, down {duration(downMs)}</span> : null}
      </figcaption>
      <svg
        viewBox="0 0 1000 24"
        preserveAspectRatio="none"
        role="img"
        aria-label={`${props.label} uptime by ${props.unit}`}
      >
        {shares.map((s, i) => (
          <rect
            class={s >= 0.9999 ? "up-full" : s >= 0.99 ? "up-most" : "up-low"}
            x={i * w + 1}
            y="0"
            width={w - 2}
            height="24"
          >
            <title>{`${(s * 100).toFixed(2)}% up`}</title>
          </rect>
        ))}
      </svg>
    </figure>
  );
}

export function TargetDetail(props: { data: TargetData }) {
  const { day, quarter } = props.data;
  const recent = day.observers.map((o) => ({ observer: o.observer, points: o.points.slice(-5) }));
  return (
    <section class="card" aria-label={`Target ${day.target}`}>
      <h2>{day.target}</h2>
      <div
        class="chart"
        role="img"
        aria-label={`Latency of ${day.target} by observer, last 24 h`}
        data-series={JSON.stringify(chartData(day))}
      />
      <UptimeBar label="Last 24 h" down={day.down} from={day.from} to={day.to} segments={24} unit="hour" />
      <UptimeBar
        label="Last 90 days"
        down={quarter.down}
        from={quarter.from}
        to={quarter.to}
        segments={90}
        unit="day"
      />
      <div class="scroll">
        <table aria-label={`Latest minutes of ${day.target}`}>
          <thead>
            <tr>
              <th scope="col">Observer</th>
              <th scope="col">Minute</th>
              <th scope="col">Probes</th>
              <th scope="col">Failed</th>
              <th scope="col">p50</th>
              <th scope="col">p95</th>
            </tr>
          </thead>
          <tbody>
            {recent.flatMap((o) =>
              o.points.map((p) => (
                <tr>
                  <th scope="row">{o.observer}</th>
                  <td>
                    <time datetime={p.at}>{p.at.slice(11, 16)}</time>
                  </td>
                  <td>{p.probes}</td>
                  <td>{p.failures}</td>
                  <td>{p.p50Ms === null ? "–" : `${p.p50Ms} ms`}</td>
                  <td>{p.p95Ms === null ? "–" : `${p.p95Ms} ms`}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
