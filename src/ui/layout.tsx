/** The page shell: header with who is signed in, navigation, the live-status line and the main area that live updates replace. */
import type { Child } from "hono/jsx";
import { VIEWS } from "./views.js";

export interface Me {
  name: string;
  role: "admin" | "read";
}

export interface Shell {
  title: string;
  me: Me;
  csrf: string;
  cluster?: string;
  active?: string;
  /** The SSE stream that keeps the main area current. */
  live?: string;
  /** The outcome of what the operator just did; kept outside the area live updates replace. */
  notice?: string;
}

export function Document(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Vigil`}</title>
        <link rel="stylesheet" href="/ui/vendor/uplot.css" />
        <link rel="stylesheet" href="/ui/style.css" />
        <script src="/ui/vendor/uplot.js" defer />
        <script src="/ui/app.js" defer />
      </head>
      <body>{props.children}</body>
    </html>
  );
}

export function Page(props: Shell & { children: Child }) {
  return (
    <Document title={props.title}>
      <header class="top">
        <a class="brand" href="/ui">
          Vigil
        </a>
        {props.cluster ? (
          <nav aria-label={`Cluster ${props.cluster}`}>
            <span class="cluster">{props.cluster}</span>
            {Object.entries(VIEWS).map(([view, label]) => (
              <a
                href={`/ui/clusters/${encodeURIComponent(props.cluster ?? "")}/${view}`}
                aria-current={props.active === view ? "page" : undefined}
              >
                {label}
              </a>
            ))}
          </nav>
        ) : (
          <nav aria-label="Main">
            <a href="/ui" aria-current="page">
              Clusters
            </a>
          </nav>
        )}
        <form class="who" method="post" action="/ui/sign-out">
          <span>
            {props.me.name} <small>({props.me.role})</small>
          </span>
          <input type="hidden" name="_csrf" value={props.csrf} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      <p
        id="live-status"
        class="live-status"
        role="status"
        aria-live="polite"
        data-state={props.live ? "connecting" : "off"}
      >
        {props.live ? "Connecting for live updates…" : " "}
      </p>
      <h1>{props.title}</h1>
      {props.notice ? (
        <p class="notice" role="alert">
          {props.notice}
        </p>
      ) : null}
      <main id="live" data-live={props.live}>
        {props.children}
      </main>
    </Document>
  );
}

/** A coloured state word; the colour is never the only sign. */
export function State(props: { state: string }) {
  return <span class={`state s-${props.state}`}>{props.state}</span>;
}

export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 90 ? `${s}s ago` : s < 5400 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}
