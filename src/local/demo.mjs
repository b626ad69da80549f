#!/usr/bin/env node
/**
 * `npm run demo`: Vigil's main job on this machine in under a minute, no account and no root.
 * The control plane (src/local/control-plane.mjs), three loopback web servers checked over HTTP
 * from three regions that vote, two directors' agents sharing a VIP by lease, and a webhook
 * receiver that verifies each alert's signature and prints it. Then a short tour (a server that
 * fails for one region only, one that fails for all, the holder's agent stopped and started),
 * each step with what Vigil did and how long it took. It keeps running until Ctrl-C and then
 * stops and removes everything it started.
 *
 * As root (with `ip` and `arping`), the directors run in a namespace lab (demo/netns.mjs) and
 * claim the VIP for real; otherwise, or with `--show`, VIP actions are shown, not applied.
 * `--tour-only` exits after the tour (for tests).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { StartError, startControlPlane } from "./control-plane.mjs";
import { DemoAgent } from "./demo/agents.mjs";
import { CLUSTER, demoCluster, GROUP, REGIONS, VIP } from "./demo/cluster.mjs";
import { MailRelay } from "./demo/mail-relay.mjs";
import { addressOf, DemoLab, labUnavailable } from "./demo/netns.mjs";
import { endChild, freeUdpPort } from "./demo/plumbing.mjs";
import { Receiver } from "./demo/receiver.mjs";
import { runTour } from "./demo/tour.mjs";
import { WebServer } from "./demo/web.mjs";

const tourOnly = process.argv.includes("--tour-only");
const port = Number(process.env.VIGIL_PORT ?? 8787);
const say = (line = "") => console.log(line);
let stopping = false;
const begun = Date.now();
const started = {
  controlPlane: null,
  servers: [],
  agents: [],
  receiver: null,
  relay: null,
  dir: null,
  api: null,
  lab: null,
};

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), "vigil-demo-"));
  started.dir = dir;
  const logFile = path.join(dir, "control-plane.log");
  const plane = await startControlPlane({ port, log: logFile });
  started.controlPlane = plane.child;
  const api = client(plane.url, plane.token);
  started.api = api;
  say(`\nVigil demo: the control plane runs on ${plane.url} (its log: ${logFile}).`);
  const directors = ["lb1", "lb2"];
  let why = process.argv.includes("--show") ? "--show" : labUnavailable();
  let lab = null;
  if (why === null) {
    try {
      lab = await DemoLab.create(dir, directors, port);
    } catch (err) {
      why = `the namespace lab could not be built (${String(err.message).split("\n")[0]})`;
    }
  }
  started.lab = lab;
  if (lab) {
    say(
      `Root: lb1 and lb2 run in network namespaces ${lab.ns("lb1")} and ${lab.ns("lb2")} on an isolated bridge; their agents claim ${VIP} on eth0 with the real ip and arping (IPVS changes are shown, not applied: hostActions show-backends).`,
    );
  } else {
    const reason = why === "not root" ? "Not root" : why;
    say(`${reason}: VIP actions are shown, not applied (the agents run with hostActions: show).`);
  }

  const servers = { web1: new WebServer("web1"), web2: new WebServer("web2", "flaky"), web3: new WebServer("web3") };
  const ports = {};
  for (const [name, s] of Object.entries(servers)) {
    ports[name] = await s.listen();
    started.servers.push(s);
  }
  say(
    `Web servers on loopback: web1 :${ports.web1} (healthy), web2 :${ports.web2} (fails one request in five), web3 :${ports.web3}`,
  );

  const alerts = [];
  const waiting = [];
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const receiver = new Receiver(
    secret,
    (event) => {
      alerts.push({ at: Date.now(), event });
      if (!stopping) say(`  alert received, signature verified: ${event.type} ${event.data.subject}`);
      for (const w of waiting.splice(0)) w();
    },
    (reason) => say(`  alert refused: ${reason}`),
  );
  started.receiver = receiver;
  const receiverPort = await receiver.listen();
  const mails = [];
  const relay = new MailRelay((mail) => {
    mails.push({ at: Date.now(), ...mail });
    if (!stopping) say(`  alert mail taken by the relay: ${mail.subject}`);
    for (const w of waiting.splice(0)) w();
  });
  started.relay = relay;
  const relayPort = await relay.listen();
  await subscribe(api, `http://127.0.0.1:${receiverPort}/alerts`, secret, `smtp://127.0.0.1:${relayPort}`);
  say(`Webhook receiver on :${receiverPort}, verifying each alert's signature; mail relay on :${relayPort}.`);

  // A clean slate each run: the control plane keeps its state under .wrangler/state.
  await api("DELETE", `/v1/clusters/${CLUSTER}?force=true`).catch(() => null);
  // In the lab each director has its own address and namespace; shown, both share this host's.
  const where = Object.fromEntries(
    await Promise.all(
      directors.map(async (node, i) => [
        node,
        lab
          ? { address: addressOf(node), peerPort: 7441 }
          : { address: `127.0.0.${11 + i}`, peerPort: await freeUdpPort() },
      ]),
    ),
  );
  const applied = await api(
    "PUT",
    `/v1/clusters/${CLUSTER}/config`,
    demoCluster({ servers: ports, directors: where, shown: lab === null }),
  );
  say(
    `Applied cluster ${CLUSTER} (revision ${applied.revision}): checks from ${REGIONS.join(", ")}, VIP group ${GROUP} on lb1 (priority 100) and lb2 (50).`,
  );

  const agents = {};
  for (const node of directors) {
    const agent = new DemoAgent({
      node,
      dir,
      url: plane.url,
      cluster: CLUSTER,
      peerPort: where[node].peerPort,
      ...(lab
        ? {
            agentUrl: `http://127.0.0.1:${port}`,
            hostActions: "show-backends",
            inside: (argv) => lab.inside(node, argv),
          }
        : { hostActions: "show" }),
      onLine: (line) => {
        if (!stopping && line.includes("shown, not applied: ip addr"))
          say(`  ${node}: ${line.replace(/^.*shown, not applied: /, "shown, not applied: ")}`);
      },
    });
    const { token } = await api("POST", `/v1/clusters/${CLUSTER}/enrollment-tokens`, { node });
    agent.enroll(token);
    agent.start();
    agents[node] = agent;
    started.agents.push(agent);
  }
  say("Agents lb1 and lb2 enrolled and running.");

  await runTour({
    begun,
    /** Where the VIP really is, in the lab: the directors whose eth0 has it. */
    vipOn: lab ? () => directors.filter((d) => lab.addresses(d).includes(VIP)) : null,
    api,
    say,
    servers,
    agents,
    alerts,
    mails,
    nextAlert: () => new Promise((resolve) => waiting.push(resolve)),
  });

  say(`
Dashboard:    ${plane.url}/ui   (sign in with the admin token)
Admin token:  ${plane.token}
API:          ${plane.url}/v1   (curl -H "Authorization: Bearer ${plane.token}" ${plane.url}/v1/clusters/${CLUSTER}/health)
`);
  if (tourOnly) await stop(0);
  say("The demo keeps running: web2 keeps failing now and then. Ctrl-C stops it and removes what it started.");
}

/** Calls the API as admin; answers the parsed body, throws with the API's error otherwise. */
function client(url, token) {
  return async (method, route, body) => {
    const reply = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await reply.text();
    const parsed = text ? JSON.parse(text) : null;
    if (!reply.ok) throw new Error(`${method} ${route}: ${reply.status} ${text}`);
    return parsed;
  };
}

/** The demo's subscriptions, made afresh: a webhook to `url`, signed with `secret`, and mail through `relay`. */
async function subscribe(api, url, secret, relay) {
  await unsubscribe(api);
  const filter = { clusters: [CLUSTER], events: ["target.down", "target.up", "vip.moved", "lease.expired"] };
  await api("POST", "/v1/webhooks", { name: "demo-alerts", url, secret, filter });
  await api("POST", "/v1/webhooks", {
    name: "demo-mail",
    format: "email",
    url: relay,
    email: { from: "vigil@demo.invalid", to: ["ops@demo.invalid"], starttls: "off" },
    filter,
  });
}

/** Removes the demo's subscriptions, if there are any. */
async function unsubscribe(api) {
  for (const name of ["demo-alerts", "demo-mail"]) await api("DELETE", `/v1/webhooks/${name}`).catch(() => null);
}

async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const agent of started.agents) await agent.stop().catch(() => null);
  await started.lab?.down();
  if (started.api) await unsubscribe(started.api);
  for (const s of started.servers) await s.close();
  await started.receiver?.close();
  await started.relay?.close();
  await endChild(started.controlPlane, "SIGINT", 10_000);
  if (started.dir) rmSync(started.dir, { recursive: true, force: true });
  if (code !== null) process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    say("\nStopping the demo: agents, web servers, receiver, mail relay, control plane.");
    void stop(0);
  });
}

main().catch(async (err) => {
  console.error(`vigil demo: ${err instanceof StartError ? err.message : (err?.stack ?? err)}`);
  await stop(1);
});
