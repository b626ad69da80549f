/**
 * The dashboard in workerd: sign-in sets a Secure, HttpOnly, SameSite cookie; pages need a
 * session; forms that change something need the session's CSRF token and a same-site
 * request; a read token sees everything and changes nothing; names and errors from the
 * outside render as text; the live stream sends the page's main area.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tcpCheck, webPair } from "./fixtures.js";
import { ADMIN, api, page, signIn } from "./http.js";

const csrfOf = (html: string) => html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "";

const seeded = () => webPair("ui", tcpCheck("web-tcp", ["lb1", "lb2"]));

/**
 * lb1's agent votes web/web1 down with `error`, as text a probed server could choose; answers
 * once the health report carries it (the coordinator may still be taking the new config).
 */
async function voteDown(cluster: string, error: string): Promise<void> {
  const shown = async () => {
    const health = (await api("GET", `/v1/clusters/${cluster}/health`)).body;
    const web1 = health.targets?.find((t: { target: string }) => t.target === "web/web1");
    return web1?.observers.some(
      (o: { observer: string; error: string }) => o.observer === "agent:lb1" && o.error === error,
    );
  };
  for (let seq = 1; seq <= 50 && !(await shown()); seq++) {
    await env.COORDINATOR.getByName(cluster).ingest({
      observer: "agent:lb1",
      seq,
      heartbeat: false,
      votes: [{ target: "web/web1", state: "down", since: Date.now(), latencyMs: 2, error, probes: 1, failures: 1 }],
    });
  }
  expect(await shown()).toBe(true);
}

/** The live stream of a page, read until its first complete update event. */
async function firstUpdate(path: string, cookie: string): Promise<{ type: string | null; text: string }> {
  const response = await exports.default.fetch(new Request(`http://vigil.test${path}`, { headers: { cookie } }));
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!(text.includes("event: update") && text.includes("\n\n", text.indexOf("event: update")))) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  return { type: response.headers.get("content-type"), text };
}

describe("the dashboard", () => {
  it("redirects to sign-in without a session, and refuses a bad token", async () => {
    const anonymous = await page("GET", "/ui/clusters/x/health", null);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/ui/sign-in?next=%2Fui%2Fclusters%2Fx%2Fhealth");
    const bad = await page("POST", "/ui/sign-in", null, { token: "vgl_not-a-token-at-all" });
    expect(bad.status).toBe(401);
    expect(bad.text).toContain("That token is not valid");
    expect(bad.headers.get("set-cookie")).toBeNull();
  });

  it("signs in with a Secure, HttpOnly, SameSite cookie, shows the clusters, and signs out", async () => {
    const name = await seeded();
    const { cookie, setCookie } = await signIn(ADMIN);
    expect(setCookie).toMatch(/^__Host-vigil_session=/);
    for (const flag of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"]) expect(setCookie).toContain(flag);
    const overview = await page("GET", "/ui", cookie);
    expect(overview.status).toBe(200);
    expect(overview.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(overview.text).toContain(`aria-label="Cluster ${name}"`);
    const out = await page("POST", "/ui/sign-out", cookie, { _csrf: csrfOf(overview.text) });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/__Host-vigil_session=;.*Max-Age=0/);
  });

  it("keeps the session on the server: the cookie is not the API token, and sign-out or revoking the token ends it", async () => {
    await seeded();
    const made = (
      await api("POST", "/v1/tokens", { body: { name: `ui-${crypto.randomUUID().slice(0, 8)}`, role: "read" } })
    ).body;
    const first = await signIn(made.token);
    const secret = first.cookie.split("=")[1] ?? "";
    expect(secret).toMatch(/^vgs_/);
    expect(first.setCookie).not.toContain(made.token);
    const overview = await page("GET", "/ui", first.cookie);
    expect(overview.status).toBe(200);
    expect((await page("POST", "/ui/sign-out", first.cookie, { _csrf: csrfOf(overview.text) })).status).toBe(303);
    // The old cookie, replayed after sign-out, opens nothing.
    expect((await page("GET", "/ui", first.cookie)).status).toBe(303);
    expect((await api("GET", "/v1/me", { token: secret })).status).toBe(401);

    const second = await signIn(made.token);
    expect((await page("GET", "/ui", second.cookie)).status).toBe(200);
    expect((await api("DELETE", `/v1/tokens/${made.id}`)).status).toBe(204);
    expect((await page("GET", "/ui", second.cookie)).status).toBe(303);
  });

  it("shows the install command with the release key the bundles are signed with", async () => {
    const { body } = await api("GET", "/v1/release-key");
    expect(body.releaseKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.installCommand).toContain(`--release-key ${body.releaseKey} --token-file /root/vigil-token`);
    const { cookie } = await signIn(ADMIN);
    const overview = await page("GET", "/ui", cookie);
    expect(overview.text).toContain('aria-label="Install an agent"');
    expect(overview.text).toContain(body.releaseKey);
  });

  it("refuses a sign-in posted from another site (login CSRF)", async () => {
    for (const headers of [{ origin: "http://evil.test" }, { "sec-fetch-site": "cross-site" }]) {
      const reply = await page("POST", "/ui/sign-in", null, { token: ADMIN, next: "/ui" }, headers);
      expect(reply.status).toBe(403);
      expect(reply.text).toContain("may not sign in here");
      expect(reply.headers.get("set-cookie")).toBeNull();
    }
  });

  it("refuses a form post without the CSRF token, or from another site", async () => {
    const name = await seeded();
    const { cookie } = await signIn(ADMIN);
    const vip = await page("GET", `/ui/clusters/${name}/vip-groups`, cookie);
    const action = `/ui/clusters/${name}/vip-groups/VI_1/switchover`;
    const none = await page("POST", action, cookie, { to: "lb2" });
    expect(none.status).toBe(403);
    expect(none.text).toContain("CSRF token is missing or wrong");
    const forged = await page("POST", action, cookie, { to: "lb2", _csrf: "AAAA" });
    expect(forged.status).toBe(403);
    const crossSite = await page(
      "POST",
      action,
      cookie,
      { to: "lb2", _csrf: csrfOf(vip.text) },
      { origin: "http://evil.test" },
    );
    expect(crossSite.status).toBe(403);
    expect(crossSite.text).toContain("may not change anything here");
    // With the token and from this site it reaches the API, which says why it cannot move (no agents here).
    const sent = await page(
      "POST",
      action,
      cookie,
      { to: "lb2", _csrf: csrfOf(vip.text) },
      { origin: "http://vigil.test" },
    );
    expect(sent.status).toBe(409);
    expect(sent.text).toContain("Refused (409)");
  });

  it("shows each VIP group's voters, how many promises hold it, and what it does without the coordinator", async () => {
    const name = await seeded();
    const { cookie } = await signIn(ADMIN);
    const vip = await page("GET", `/ui/clusters/${name}/vip-groups`, cookie);
    const voters = vip.text.match(/<table aria-label="Voters of VI_1">[\s\S]*?<\/table>/)?.[0] ?? "";
    expect(voters).toContain("2 of 3 promises hold it");
    // Nobody holds it (no agent connected here): no voter promises anyone.
    expect([...voters.matchAll(/<th scope="row">([^<]+)<\/th>/g)].map((m) => m[1])).toEqual([
      "lb1",
      "lb2",
      "coordinator",
    ]);
    expect(voters).not.toContain("s-yes");
    expect(voters.match(/s-no/g)).toHaveLength(3);
    expect(vip.text).toContain("quorum: the holder keeps it while a majority of voters promise it");
  });

  it("shows each real server's checks with their verdicts on the services page, linked to their history", async () => {
    const name = await seeded();
    // Both observers vote web1 down, so its quorum verdict is down.
    const verdict = async () =>
      (await api("GET", `/v1/clusters/${name}/health`)).body.targets?.find(
        (t: { target: string }) => t.target === "web/web1",
      )?.verdict.state;
    for (let seq = 1; seq <= 50 && (await verdict()) !== "down"; seq++)
      for (const observer of ["agent:lb1", "agent:lb2"])
        await env.COORDINATOR.getByName(name).ingest({
          observer,
          seq,
          heartbeat: false,
          votes: [
            {
              target: "web/web1",
              state: "down",
              since: Date.now(),
              latencyMs: 2,
              error: "refused",
              probes: 1,
              failures: 1,
            },
          ],
        });
    expect(await verdict()).toBe("down");
    const { cookie } = await signIn(ADMIN);
    const services = await page("GET", `/ui/clusters/${name}/services`, cookie);
    const table = services.text.match(/<table class="checks" aria-label="Checks of web">[\s\S]*?<\/table>/)?.[0] ?? "";
    const rows = [
      ...table.matchAll(/<th scope="row">([^<]+)<\/th><td><a href="([^"]+)">([^<]+)<\/a><\/td><td>([\s\S]*?)<\/td>/g),
    ];
    expect(rows.map((m) => [m[1], m[2], m[3], m[4]?.match(/s-(\w+)/)?.[1]])).toEqual([
      ["web1", "health?target=web%2Fweb1", "web-tcp", "down"],
    ]);
  });

  it("says plainly when a node's VIP actions are shown, not applied", async () => {
    const name = await seeded();
    const { cookie } = await signIn(ADMIN);
    const notice = /data-field="shown-not-applied"[^>]*>([\s\S]*?)<\/p>/;
    expect((await page("GET", `/ui/clusters/${name}/vip-groups`, cookie)).text).not.toMatch(notice);
    // What the coordinator records from a hello with hostActions "show" (test/worker/channel.test.ts).
    await env.DB.prepare("UPDATE nodes SET host_actions = 'show' WHERE cluster = ? AND name = 'lb1'").bind(name).run();
    const vip = (await page("GET", `/ui/clusters/${name}/vip-groups`, cookie)).text;
    expect(vip.match(notice)?.[1]).toMatch(/^\s*VIP actions on lb1 are shown, not applied/);
    expect(vip).toContain("VIP actions shown, not applied</small>");
  });

  it("shows a read token everything and lets it change nothing", async () => {
    const name = await seeded();
    const read = (await api("POST", "/v1/tokens", { body: { name: "viewer", role: "read" } })).body.token;
    const { cookie } = await signIn(read);
    const vip = await page("GET", `/ui/clusters/${name}/vip-groups`, cookie);
    expect(vip.status).toBe(200);
    expect(vip.text).toContain("VI_1");
    expect(vip.text).not.toContain("Switch VI_1 over");
    expect(vip.text).not.toContain("Drain lb1");
    const tried = await page("POST", `/ui/clusters/${name}/nodes/lb1/drain`, cookie, { _csrf: csrfOf(vip.text) });
    expect(tried.status).toBe(403);
    expect(tried.text).toContain("this needs an admin token");
  });

  it("renders outside text as text: a vote's error and an event's subject cannot inject markup", async () => {
    const name = await seeded();
    const evil = "<script>alert(1)</script>";
    await voteDown(name, `"><img src=x onerror=alert(1)>`);
    await env.DB.prepare(
      "INSERT INTO events (id, cluster, type, severity, subject, details, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
      .bind(
        crypto.randomUUID(),
        name,
        "target.down",
        "critical",
        evil,
        JSON.stringify({ note: evil }),
        new Date().toISOString(),
      )
      .run();
    const { cookie } = await signIn(ADMIN);
    const health = await page("GET", `/ui/clusters/${name}/health`, cookie);
    expect(health.text).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    expect(health.text).not.toContain("<img src=x");
    const timeline = await page("GET", `/ui/clusters/${name}/timeline`, cookie);
    expect(timeline.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(timeline.text).not.toContain(evil);
  });

  it("streams the page's main area as server-sent events", async () => {
    const name = await seeded();
    const { cookie } = await signIn(ADMIN);
    const { type, text } = await firstUpdate(`/ui/live/clusters/${name}/health`, cookie);
    expect(type).toContain("text/event-stream");
    expect(text).toContain("event: update");
    expect(text).toContain('data-name="web/web1"');
  });

  it("keeps a probed server's CR out of the stream's fields: a banner cannot inject event: or retry:", async () => {
    const name = await seeded();
    await voteDown(name, "bad banner\rretry: 1\revent: problem\r\ndata: injected\rid: 9");
    const { cookie } = await signIn(ADMIN);
    const { text } = await firstUpdate(`/ui/live/clusters/${name}/health`, cookie);
    expect(text).toContain("bad banner");
    // Lines as an EventSource reads them: CR, LF and CRLF all end one.
    const fields = text
      .split(/\r\n|\r|\n/)
      .filter((line) => line !== "" && !line.startsWith(":"))
      .map((line) => line.slice(0, line.indexOf(":")));
    expect(new Set(fields)).toEqual(new Set(["retry", "event", "data"]));
    expect(text.split(/\r\n|\r|\n/).filter((l) => l.startsWith("retry:"))).toEqual(["retry: 2000"]);
    expect(text.split(/\r\n|\r|\n/).filter((l) => l.startsWith("event:"))).toEqual(["event: update"]);
  });
});
