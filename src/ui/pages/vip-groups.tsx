/** VIP groups: holder, epoch, time left, members with effective priority and why one is not eligible; switchover and drain for admins. */
import { CLOCK_SKEW_MS } from "../../core/envelope.js";
import type { Holding } from "../../core/history-periods.js";
import type { LeaseView } from "../../core/lease-view.js";
import { COORDINATOR } from "../../core/majority.js";
import type { HostActions } from "../../core/vocabulary.js";
import type { UiApi } from "../api.js";
import { State } from "../layout.js";

/** An agent clock this far off is shown beside it. */
const CLOCK_WARNING_MS = 2000;

export interface VipGroupsData {
  leases: LeaseView[];
  /** Who held each group over the last 24 h, by group. */
  holders: Record<string, { from: string; to: string; holders: Holding[] }>;
  nodes: {
    name: string;
    status?: { online: boolean; clockOffsetMs: number | null; hostActions?: HostActions };
  }[];
}

export async function loadVipGroups(api: UiApi, cluster: string): Promise<VipGroupsData> {
  const c = encodeURIComponent(cluster);
  const [leases, nodes] = await Promise.all([
    api.get<LeaseView[]>(`/v1/clusters/${c}/leases`),
    api.get<VipGroupsData["nodes"]>(`/v1/clusters/${c}/nodes`),
  ]);
  const holders = Object.fromEntries(
    await Promise.all(
      leases.map(async (l) => [
        l.group,
        await api.get(`/v1/clusters/${c}/vip-groups/${encodeURIComponent(l.group)}/history`),
      ]),
    ),
  );
  return { leases, nodes, holders };
}

/** An agent's clock offset, shown only when it is large enough to matter. */
function ClockOffset(props: { ms: number | null }) {
  if (props.ms === null || Math.abs(props.ms) < CLOCK_WARNING_MS) return null;
  const seconds = (props.ms / 1000).toFixed(1);
  const refused = Math.abs(props.ms) > CLOCK_SKEW_MS;
  return (
    <span class="clock-offset">
      {" "}
      clock {props.ms > 0 ? "+" : ""}
      {seconds} s{refused ? ": its commands are refused, fix NTP" : ""}
    </span>
  );
}

/** A one-button form that changes something: the CSRF token, optional fields, a confirmation asked by app.js. */
function Action(props: {
  to: string;
  csrf: string;
  label: string;
  confirm?: string;
  fields?: Record<string, string>;
  children: string;
}) {
  return (
    <form method="post" action={props.to} data-confirm={props.confirm}>
      <input type="hidden" name="_csrf" value={props.csrf} />
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" aria-label={props.label}>
        {props.children}
      </button>
    </form>
  );
}

function left(ms: number | null): string {
  return ms === null ? "–" : `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

/**
 * Who held the group when, over the last 24 h: a band with one segment per holding (a colour
 * per member), each move marked, and the same as a list. SVG and HTML: no script needed.
 */
function HolderBand(props: {
  group: string;
  members: string[];
  history: VipGroupsData["holders"][string] | undefined;
}) {
  const h = props.history;
  if (!h) return null;
  // Less than a day of holders (a new group, the demo): the band starts shortly before the first.
  const first = h.holders.length > 0 ? Math.min(...h.holders.map((s) => Date.parse(s.from))) : Date.parse(h.from);
  const to = Date.parse(h.to);
  const from = Math.max(Date.parse(h.from), first - Math.max(5000, (to - first) / 10));
  const span = to - from;
  // An SVG 1000 units wide: the dashboard's Content-Security-Policy allows no inline styles.
  const x = (t: number) => Math.round(Math.min(1000, Math.max(0, ((t - from) / span) * 1000)));
  const colour = (node: string) => `m${Math.max(0, props.members.indexOf(node)) % 4}`;
  const shown = h.holders.filter((s) => Date.parse(s.to ?? h.to) > from);
  return (
    <figure class="band" aria-label={`Holders of ${props.group}, up to 24 h`}>
      <svg
        viewBox="0 0 1000 28"
        preserveAspectRatio="none"
        role="img"
        aria-label={`Holders of ${props.group}`}
        data-field="holder-band"
      >
        {shown.map((s) => {
          const start = x(Math.max(from, Date.parse(s.from)));
          return (
            <rect
              class={`band-seg ${colour(s.node)}`}
              data-node={s.node}
              x={start}
              y="0"
              width={Math.max(1, x(Date.parse(s.to ?? h.to)) - start)}
              height="28"
            >
              <title>{`${s.node} from ${s.from} to ${s.to ?? "now"}: ${s.why}`}</title>
            </rect>
          );
        })}
        {shown
          .filter((s) => Date.parse(s.from) > from)
          .map((s) => (
            <rect class="band-move" x={x(Date.parse(s.from)) - 1} y="0" width="2" height="28">
              <title>{`moved to ${s.node}: ${s.why}`}</title>
            </rect>
          ))}
      </svg>
      <p class="band-legend">
        {props.members.map((m) => (
          <span>
            <svg viewBox="0 0 10 10" class="swatch" aria-hidden="true">
              <rect class={`band-seg ${colour(m)}`} width="10" height="10" />
            </svg>{" "}
            {m}
          </span>
        ))}
      </p>
      <figcaption>
        <span>
          {from === Date.parse(h.from) ? (
            "24 h ago"
          ) : (
            <time datetime={new Date(from).toISOString()}>{new Date(from).toISOString().slice(11, 19)} UTC</time>
          )}
        </span>
        <span>now</span>
      </figcaption>
      <details>
        <summary>Holders, oldest first</summary>
        <ol>
          {shown.map((x) => (
            <li>
              {x.node} from <time datetime={x.from}>{x.from}</time> to{" "}
              {x.to ? <time datetime={x.to}>{x.to}</time> : "now"}: {x.why}
              {x.ended ? `; ${x.ended}` : ""}
            </li>
          ))}
        </ol>
      </details>
    </figure>
  );
}

/** What the agents of a unit do while the coordinator is away, in a few words. */
const COORDINATOR_LOSS: Record<LeaseView["onCoordinatorLoss"], string> = {
  quorum: "quorum: the holder keeps it while a majority of voters promise it",
  release: "release: the holder drops it at its deadline",
  hold: "hold: the holder keeps it, two holders possible",
};

/** Who promises the holder and for how long: a majority of these promises is what holds the VIP. */
function Voters(props: { lease: LeaseView }) {
  const l = props.lease;
  return (
    <div class="scroll">
      <table aria-label={`Voters of ${l.group}`}>
        <caption>
          {l.majority} of {l.voters.length} promises hold it
        </caption>
        <thead>
          <tr>
            <th scope="col">Voter</th>
            <th scope="col">Promises {l.holder ?? "the holder"}</th>
            <th scope="col">For</th>
          </tr>
        </thead>
        <tbody>
          {l.voters.map((v) => (
            <tr>
              <th scope="row">{v.voter === COORDINATOR ? "coordinator" : v.voter}</th>
              <td>
                <State state={v.promised ? "yes" : "no"} />
              </td>
              <td>{v.promised ? left(v.remainingMs) : "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function VipGroupsMain(props: { data: VipGroupsData; cluster: string; admin: boolean; csrf: string }) {
  const c = encodeURIComponent(props.cluster);
  const named = (mode: HostActions) =>
    props.data.nodes.filter((n) => n.status?.hostActions === mode).map((n) => n.name);
  const shown = named("show");
  const backends = named("show-backends");
  const their = (nodes: string[]) => (nodes.length > 1 ? "their agents run" : "its agent runs");
  return (
    <>
      {shown.length > 0 ? (
        <p class="notice" role="note" data-field="shown-not-applied">
          VIP actions on {shown.join(", ")} are shown, not applied: {their(shown)} with <code>hostActions: "show"</code>{" "}
          and change nothing on the host. Run the agent as root with the default for real VIPs.
        </p>
      ) : null}
      {backends.length > 0 ? (
        <p class="notice" role="note" data-field="backends-shown">
          IPVS changes on {backends.join(", ")} are shown, not applied (VIPs are applied): {their(backends)} with{" "}
          <code>hostActions: "show-backends"</code>.
        </p>
      ) : null}
      {props.data.leases.map((l) => (
        <section class="card" aria-label={`VIP group ${l.group}`}>
          <h2>{l.group}</h2>
          <dl class="facts">
            <dt>Holder</dt>
            <dd data-field="holder">{l.holder ?? "nobody"}</dd>
            <dt>Epoch</dt>
            <dd>{l.epoch}</dd>
            <dt>Lease left</dt>
            <dd>{left(l.remainingMs)}</dd>
            <dt>Coordinator away</dt>
            <dd>{COORDINATOR_LOSS[l.onCoordinatorLoss]}</dd>
            {l.vipGroups.length > 1 ? (
              <>
                <dt>Moves with</dt>
                <dd>{l.vipGroups.join(", ")}</dd>
              </>
            ) : null}
          </dl>
          <div class="scroll">
            <table aria-label={`Members of ${l.group}`}>
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col">Priority</th>
                  <th scope="col">Eligible</th>
                  <th scope="col">Why not</th>
                  {props.admin ? <th scope="col">Action</th> : null}
                </tr>
              </thead>
              <tbody>
                {l.members.map((m) => (
                  <tr>
                    <th scope="row">
                      {m.node}
                      {m.node === l.holder ? <small> holder</small> : null}
                    </th>
                    <td>{m.priority}</td>
                    <td>
                      <State state={m.eligible ? "yes" : "no"} />
                    </td>
                    <td>{m.reasons.join("; ") || "–"}</td>
                    {props.admin ? (
                      <td>
                        {m.node !== l.holder ? (
                          <Action
                            to={`/ui/clusters/${c}/vip-groups/${encodeURIComponent(l.group)}/switchover`}
                            csrf={props.csrf}
                            fields={{ to: m.node }}
                            confirm={`Move ${l.group} to ${m.node}?`}
                            label={`Switch ${l.group} over to ${m.node}`}
                          >
                            Switch over here
                          </Action>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Voters lease={l} />
          <HolderBand group={l.group} members={l.members.map((m) => m.node)} history={props.data.holders[l.group]} />
        </section>
      ))}
      {props.data.leases.length === 0 ? <p>No VIP groups in this cluster.</p> : null}
      <section class="card" aria-label="Nodes">
        <h2>Nodes</h2>
        <div class="scroll">
          <table aria-label="Nodes">
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Agent</th>
                {props.admin ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {props.data.nodes.map((n) => (
                <tr>
                  <th scope="row">{n.name}</th>
                  <td>
                    <State state={n.status?.online ? "online" : "offline"} />
                    <ClockOffset ms={n.status?.clockOffsetMs ?? null} />
                    {n.status?.hostActions === "show" ? <small> VIP actions shown, not applied</small> : null}
                    {n.status?.hostActions === "show-backends" ? <small> IPVS changes shown, not applied</small> : null}
                  </td>
                  {props.admin ? (
                    <td>
                      <Action
                        to={`/ui/clusters/${c}/nodes/${encodeURIComponent(n.name)}/drain`}
                        csrf={props.csrf}
                        confirm={`Drain ${n.name}: move every VIP group it holds away?`}
                        label={`Drain ${n.name}`}
                      >
                        Drain
                      </Action>
                      <Action
                        to={`/ui/clusters/${c}/nodes/${encodeURIComponent(n.name)}/undrain`}
                        csrf={props.csrf}
                        label={`Let ${n.name} hold VIP groups again`}
                      >
                        Undrain
                      </Action>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
