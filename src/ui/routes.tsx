/**
 * The dashboard under /ui, server-rendered with Hono JSX: sign-in, clusters overview, health
 * matrix, VIP groups (switchover and drain for admins), virtual services, timeline. Each page's
 * main area is also an SSE stream (/ui/live/...) that sends it again whenever it changes.
 */
import type { Context, Hono } from "hono";
import type { Child } from "hono/jsx";
import type { AppEnv } from "../api/context.js";
import { ApiFailure, UiApi } from "./api.js";
import { SCRIPT, STYLE } from "./assets.js";
import { Document, type Me, Page } from "./layout.js";
import { liveStream } from "./live.js";
import { HealthMain, loadHealth } from "./pages/health.js";
import { loadInstall, loadOverview, OverviewMain } from "./pages/overview.js";
import { loadServices, ServicesMain } from "./pages/services.js";
import { loadTarget } from "./pages/target.js";
import { loadTimeline, TimelineMain } from "./pages/timeline.js";
import { loadVipGroups, VipGroupsMain } from "./pages/vip-groups.js";
import { crossSite, csrfProblem, csrfToken, endSession, sessionToken, startSession } from "./session.js";
import { isView, VIEWS, type View } from "./views.js";

type C = Context<AppEnv>;

interface Signed {
  api: UiApi;
  me: Me;
  csrf: string;
}

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

async function html(c: C, node: Child, status = 200): Promise<Response> {
  return c.html(
    `<!doctype html>${await (node as { toString(): string | Promise<string> }).toString()}`,
    status as 200,
    SECURITY_HEADERS,
  );
}

function SignIn(props: { message?: string; next?: string }) {
  return (
    <Document title="Sign in">
      <form class="signin" method="post" action="/ui/sign-in">
        <h1>Sign in to Vigil</h1>
        {props.message ? (
          <p class="notice" role="alert">
            {props.message}
          </p>
        ) : null}
        <label>
          API token
          <input type="password" name="token" autocomplete="current-password" required aria-label="API token" />
        </label>
        <input type="hidden" name="next" value={props.next ?? "/ui"} />
        <button type="submit">Sign in</button>
        <p>
          <small>A read token sees everything and changes nothing; an admin token can switch over and drain.</small>
        </p>
      </form>
    </Document>
  );
}

const safeNext = (next: unknown) =>
  typeof next === "string" && /^\/ui(\/[A-Za-z0-9_.~%/-]*)?$/.test(next) ? next : "/ui";

export function registerUi(app: Hono<AppEnv>): void {
  /** The session's API client and principal, or null when there is no valid session. */
  async function signed(c: C): Promise<Signed | null> {
    const token = sessionToken(c);
    if (!token) return null;
    const api = new UiApi(app, c, token);
    const me = await api.call("GET", "/v1/me");
    if (me.status !== 200) {
      await endSession(c);
      return null;
    }
    return { api, me: { name: me.body.name, role: me.body.role }, csrf: await csrfToken(token) };
  }

  const toSignIn = (c: C) => c.redirect(`/ui/sign-in?next=${encodeURIComponent(new URL(c.req.url).pathname)}`, 303);

  app.get("/ui/style.css", (c) => c.body(STYLE, 200, { "content-type": "text/css; charset=utf-8" }));
  app.get("/ui/app.js", (c) => c.body(SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8" }));

  app.get("/ui/sign-in", (c) => html(c, <SignIn next={safeNext(c.req.query("next"))} />));
  app.post("/ui/sign-in", async (c) => {
    const foreign = crossSite(c);
    if (foreign) return c.text(foreign, 403);
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const me = token ? await new UiApi(app, c, token).call("GET", "/v1/me") : null;
    if (me?.status !== 200)
      return html(
        c,
        <SignIn message="That token is not valid: paste an API token (vgl_…)." next={safeNext(form.next)} />,
        401,
      );
    await startSession(c, me.body.id);
    return c.redirect(safeNext(form.next), 303);
  });
  app.post("/ui/sign-out", async (c) => {
    const token = sessionToken(c);
    if (token) {
      const problem = await csrfProblem(c, token, (await c.req.parseBody())._csrf);
      if (problem) return c.text(problem, 403);
    }
    await endSession(c);
    return c.redirect("/ui/sign-in", 303);
  });

  /** Renders one view's main area. */
  async function main(s: Signed, cluster: string | null, view: View | null, query: URLSearchParams) {
    if (cluster === null || view === null)
      return <OverviewMain clusters={await loadOverview(s.api)} install={await loadInstall(s.api)} />;
    switch (view) {
      case "health": {
        const report = await loadHealth(s.api, cluster);
        const wanted = query.get("target");
        const target = report.targets.some((t) => t.target === wanted)
          ? await loadTarget(s.api, cluster, wanted ?? "")
          : null;
        return <HealthMain report={report} cluster={cluster} target={target} />;
      }
      case "vip-groups":
        return (
          <VipGroupsMain
            data={await loadVipGroups(s.api, cluster)}
            cluster={cluster}
            admin={s.me.role === "admin"}
            csrf={s.csrf}
          />
        );
      case "services":
        return <ServicesMain view={await loadServices(s.api, cluster)} />;
      case "timeline":
        return <TimelineMain data={await loadTimeline(s.api, cluster, query)} cluster={cluster} />;
    }
  }

  async function page(c: C, s: Signed, cluster: string | null, view: View | null, notice?: string, status = 200) {
    const query = new URL(c.req.url).searchParams;
    const path = cluster && view ? `/clusters/${encodeURIComponent(cluster)}/${view}` : "";
    const title = cluster && view ? `${VIEWS[view]}: ${cluster}` : "Clusters";
    try {
      const body = await main(s, cluster, view, query);
      return html(
        c,
        <Page
          title={title}
          me={s.me}
          csrf={s.csrf}
          {...(cluster ? { cluster } : {})}
          {...(view ? { active: view } : {})}
          {...(notice ? { notice } : {})}
          live={`/ui/live${path}${query.size > 0 ? `?${query}` : ""}`}
        >
          {body}
        </Page>,
        status,
      );
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      return html(
        c,
        <Page title={title} me={s.me} csrf={s.csrf}>
          <p class="notice" role="alert">
            {err.message}
          </p>
        </Page>,
        err.status,
      );
    }
  }

  app.get("/ui", async (c) => {
    const s = await signed(c);
    return s ? page(c, s, null, null) : toSignIn(c);
  });
  app.get("/ui/clusters/:cluster/:view", async (c) => {
    const s = await signed(c);
    if (!s) return toSignIn(c);
    const view = c.req.param("view");
    if (!isView(view)) return c.notFound();
    return page(c, s, c.req.param("cluster"), view);
  });

  const live = async (c: C, cluster: string | null, view: View | null) => {
    const s = await signed(c);
    if (!s) return c.text("sign in first", 401);
    const query = new URL(c.req.url).searchParams;
    return liveStream(async () => {
      const node = await main(s, cluster, view, query);
      return (node as { toString(): string | Promise<string> }).toString();
    });
  };
  app.get("/ui/live", (c) => live(c, null, null));
  app.get("/ui/live/clusters/:cluster/:view", (c) => {
    const view = c.req.param("view");
    return isView(view) ? live(c, c.req.param("cluster"), view) : c.notFound();
  });

  /** A form post that changes something: session, same site, CSRF token; then the API call, whose answer is shown. */
  async function action(
    c: C,
    run: (s: Signed, form: Record<string, unknown>) => Promise<{ status: number; body: any }>,
    success: string,
  ) {
    const s = await signed(c);
    if (!s) return toSignIn(c);
    const form = await c.req.parseBody();
    const problem = await csrfProblem(c, sessionToken(c) ?? "", form._csrf);
    if (problem) return c.text(problem, 403);
    const cluster = c.req.param("cluster") ?? "";
    const out = await run(s, form);
    const notice =
      out.status < 300 ? success : `Refused (${out.status}): ${out.body?.error?.message ?? "no reason given"}`;
    return page(c, s, cluster, "vip-groups", notice, out.status < 300 ? 200 : out.status);
  }

  app.post("/ui/clusters/:cluster/vip-groups/:group/switchover", (c) => {
    const cluster = encodeURIComponent(c.req.param("cluster"));
    const group = c.req.param("group");
    return action(
      c,
      (s, form) =>
        s.api.call("POST", `/v1/clusters/${cluster}/vip-groups/${encodeURIComponent(group)}/switchover`, {
          to: form.to,
        }),
      `${group} switched over.`,
    );
  });
  for (const [verb, method] of [
    ["drain", "POST"],
    ["undrain", "DELETE"],
  ] as const) {
    app.post(`/ui/clusters/:cluster/nodes/:node/${verb}`, (c) => {
      const node = c.req.param("node");
      return action(
        c,
        (s) =>
          s.api.call(
            method,
            `/v1/clusters/${encodeURIComponent(c.req.param("cluster"))}/nodes/${encodeURIComponent(node)}/drain`,
          ),
        verb === "drain" ? `${node} drained.` : `${node} may hold VIP groups again.`,
      );
    });
  }
}
