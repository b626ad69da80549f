/** Timeline: the cluster's events with filters, and each subscription's deliveries (webhook or email) with their attempts. */
import type { Event } from "../../core/event.js";
import { eventWords } from "../../core/event-words.js";
import { EVENT_TYPES } from "../../core/vocabulary.js";
import { attemptAnswer, type DeliveryWithAttempts, type Webhook } from "../../core/webhook.js";
import type { UiApi } from "../api.js";
import { ago, State } from "../layout.js";

export interface TimelineData {
  events: Event[];
  webhooks: { name: string; format: string; to: string[]; deliveries: DeliveryWithAttempts[] }[];
  filter: { type: string; subject: string };
}

export async function loadTimeline(api: UiApi, cluster: string, query: URLSearchParams): Promise<TimelineData> {
  const type = EVENT_TYPES.includes(query.get("type") as never) ? (query.get("type") ?? "") : "";
  const subject = (query.get("subject") ?? "").slice(0, 200);
  const params = new URLSearchParams({ limit: "100" });
  if (type) params.set("type", type);
  if (subject) params.set("subject", subject);
  const events = await api.get<Event[]>(`/v1/clusters/${encodeURIComponent(cluster)}/events?${params}`);
  const hooks = await api.get<Webhook[]>("/v1/webhooks");
  const webhooks = await Promise.all(
    hooks.map(async (h) => {
      const base = `/v1/webhooks/${encodeURIComponent(h.name)}/deliveries`;
      const list = await api.get<Omit<DeliveryWithAttempts, "attemptLog">[]>(`${base}?limit=10`);
      const deliveries = await Promise.all(
        list.map((d) => api.get<DeliveryWithAttempts>(`${base}/${encodeURIComponent(d.id)}`)),
      );
      return { name: h.name, format: h.format, to: h.email?.to ?? [], deliveries };
    }),
  );
  return { events, webhooks, filter: { type, subject } };
}

export function TimelineMain(props: { data: TimelineData; cluster: string }) {
  const { data } = props;
  return (
    <>
      <form class="filters" method="get" action={`/ui/clusters/${encodeURIComponent(props.cluster)}/timeline`}>
        <label>
          Type{" "}
          <select name="type" aria-label="Event type">
            <option value="">any</option>
            {EVENT_TYPES.map((t) => (
              <option value={t} selected={t === data.filter.type}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Subject <input type="search" name="subject" value={data.filter.subject} aria-label="Event subject" />
        </label>
        <button type="submit">Filter</button>
      </form>
      <section class="card" aria-label="Events">
        <h2>Events</h2>
        <ol class="events">
          {data.events.map((e) => (
            <li>
              <time datetime={e.at} title={e.at}>
                {ago(e.at)}
              </time>{" "}
              <State state={e.severity} /> <span data-field="event-words">{eventWords(e)}</span>
              <details class="raw">
                <summary>
                  <small>{e.type}</small>
                </summary>
                <pre>{JSON.stringify(e.details, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ol>
        {data.events.length === 0 ? <p>No events match.</p> : null}
      </section>
      <section class="card" aria-label="Alert deliveries">
        <h2>Alert deliveries</h2>
        {data.webhooks.length === 0 ? <p>No webhook or email subscriptions.</p> : null}
        {data.webhooks.map((w) => (
          <div data-subscription={w.name}>
            <h3>
              {w.name} <small>{w.format === "email" ? `email to ${w.to.join(", ")}` : `webhook (${w.format})`}</small>
            </h3>
            <ul class="deliveries">
              {w.deliveries.map((d) => (
                <li>
                  <details>
                    <summary>
                      <State state={d.status} /> {d.eventType} {d.subject} · {d.attempts} attempt(s) ·{" "}
                      {ago(d.createdAt)}
                    </summary>
                    <ol>
                      {d.attemptLog.map((a) => (
                        <li>
                          #{a.n} {a.at} · {attemptAnswer(w.format, a.status)} · {a.latencyMs} ms
                          {a.error ? ` · ${a.error}` : ""}
                        </li>
                      ))}
                    </ol>
                  </details>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </section>
    </>
  );
}
