/**
 * Virtual services per director, like `ipvsadm -Ln` or HAProxy's stats page: desired vs actual,
 * and each real server's checks with their verdicts (a server is down when any check is).
 */
import type { BackendsView } from "../../core/backend-status.js";
import type { UiApi } from "../api.js";
import { State } from "../layout.js";

export async function loadServices(api: UiApi, cluster: string): Promise<BackendsView> {
  return api.get<BackendsView>(`/v1/clusters/${encodeURIComponent(cluster)}/backends`);
}

export function ServicesMain(props: { view: BackendsView }) {
  return (
    <>
      {props.view.services.map(({ desired, checks, directors }) => (
        <section class="card" aria-label={`Virtual service ${desired.name}`}>
          <h2>
            {desired.name}{" "}
            <small>
              {desired.fwmark !== undefined
                ? `FWM ${desired.fwmark}`
                : `${desired.protocol.toUpperCase()} ${desired.address}:${desired.port}`}{" "}
              {desired.scheduler} · {desired.forwarding} · {desired.driver.type}
            </small>
          </h2>
          <p>
            {desired.healthy} healthy real server(s)
            {desired.belowMinimum ? (
              <>
                {" "}
                <State state="down" /> below its minimum
              </>
            ) : null}
          </p>
          {checks.length > 0 ? (
            <table class="checks" aria-label={`Checks of ${desired.name}`}>
              <thead>
                <tr>
                  <th scope="col">Real server</th>
                  <th scope="col">Check</th>
                  <th scope="col">Verdict</th>
                </tr>
              </thead>
              <tbody>
                {checks.map((c) => (
                  <tr>
                    <th scope="row">{c.server}</th>
                    <td>
                      <a href={`health?target=${encodeURIComponent(c.target)}`}>{c.check}</a>
                    </td>
                    <td>
                      <State state={c.state} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {directors.map((d) => {
            const actual = new Map((d.actual?.servers ?? []).map((s) => [`${s.address}:${s.port}`, s]));
            return (
              <div class="director">
                <h3>
                  {d.node} <State state={d.online ? "online" : "offline"} />
                </h3>
                {d.readAt ? <p class="muted">Live table read at {d.readAt.slice(11, 19)} UTC</p> : null}
                {d.error ? <p class="notice">{d.error}</p> : null}
                {d.sync && d.sync.length > 0 ? (
                  <p>
                    Connection sync: {d.sync.map((x) => `${x.role} on ${x.interface} (syncid ${x.syncId})`).join(", ")}
                  </p>
                ) : null}
                <div class="scroll">
                  <table aria-label={`${desired.name} on ${d.node}`}>
                    <thead>
                      <tr>
                        <th scope="col">Real server</th>
                        <th scope="col">Role</th>
                        <th scope="col">Weight wanted</th>
                        <th scope="col">Weight actual</th>
                        <th scope="col">State</th>
                        <th scope="col">Connections</th>
                      </tr>
                    </thead>
                    <tbody>
                      {desired.servers.map((s) => {
                        const a = actual.get(`${s.address}:${desired.fwmark !== undefined ? 0 : s.port}`);
                        const conns =
                          a?.sessions !== undefined
                            ? `${a.sessions} sessions`
                            : a?.activeConns !== undefined
                              ? `${a.activeConns} active / ${a.inactiveConns ?? 0} inactive`
                              : "–";
                        return (
                          <tr>
                            <th scope="row">
                              {s.name} <small>{`${s.address}:${s.port}`}</small>
                            </th>
                            <td>{s.role}</td>
                            <td>{s.weight}</td>
                            <td>{a ? a.weight : "–"}</td>
                            <td>{a ? <State state={a.state ?? (a.weight > 0 ? "ready" : "inhibited")} /> : "–"}</td>
                            <td>{conns}</td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
                {d.differences.length > 0 ? (
                  <ul class="differences" aria-label={`Differences on ${d.node}`}>
                    {d.differences.map((x) => (
                      <li>{x}</li>
                    ))}
                  </ul>
                ) : d.actual ? (
                  <p>In step with the desired table.</p>
                ) : null}
              </div>
            );
          })}
        </section>
      ))}
      {props.view.services.length === 0 ? <p>No virtual services in this cluster.</p> : null}
    </>
  );
}
