/**
 * The demo's tour: each step changes one thing, waits for what Vigil does about it through the
 * API (and the webhook receiver and mail relay), and says how long that took. A step that does not see the
 * expected outcome in time fails the demo with what it saw instead.
 */
import { CLUSTER, GROUP, REGIONS, VIP } from "./cluster.mjs";

const STEP_LIMIT_MS = 45_000;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

export async function runTour({ begun, vipOn, api, say, servers, agents, alerts, mails, nextAlert }) {
  const health = async () => (await api("GET", `/v1/clusters/${CLUSTER}/health`)).targets;
  const target = async (name) => (await health()).find((t) => t.target === `web/${name}`);
  const holder = async () =>
    (await api("GET", `/v1/clusters/${CLUSTER}/leases`)).find((l) => l.group === GROUP)?.holder ?? null;
  const upBy = (t) => t.observers.filter((o) => o.fresh && o.state === "up").length;

  /** Polls `check` until it answers something truthy; answers that and the time it took. */
  async function until(what, check, from = Date.now()) {
    let last = null;
    while (Date.now() - from < STEP_LIMIT_MS) {
      // An agent that died on its own is not coming back: say so now, not after the limit.
      for (const agent of Object.values(agents)) {
        const failure = agent.failure();
        if (failure) throw new Error(`while waiting for ${what}: ${failure}`);
      }
      last = await check();
      if (last) return { value: last, ms: Date.now() - from };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the tour waited ${seconds(STEP_LIMIT_MS)} for ${what} and did not see it`);
  }
  /** Waits for a mail whose subject starts with `subject`, taken by the relay after `from`. */
  async function mail(subject, from) {
    for (;;) {
      const found = mails.find((m) => m.at >= from && m.subject.startsWith(subject));
      if (found) return found.at - from;
      if (Date.now() - from > STEP_LIMIT_MS)
        throw new Error(`no mail "${subject}..." within ${seconds(STEP_LIMIT_MS)}`);
      await Promise.race([nextAlert(), new Promise((r) => setTimeout(r, 500))]);
    }
  }
  /** Waits for an alert of `type` about `subject` received after `from`. */
  async function alert(type, subject, from) {
    for (;;) {
      const found = alerts.find((a) => a.at >= from && a.event.type === type && a.event.data.subject === subject);
      if (found) return found.at - from;
      if (Date.now() - from > STEP_LIMIT_MS)
        throw new Error(`no ${type} alert for ${subject} within ${seconds(STEP_LIMIT_MS)}`);
      await Promise.race([nextAlert(), new Promise((r) => setTimeout(r, 500))]);
    }
  }

  /** In the namespace lab: waits until only `node`'s eth0 has the VIP, as `ip` shows it. */
  async function onTheWire(node, from) {
    if (!vipOn) return;
    const only = await until(
      `${VIP} on ${node}'s eth0 only`,
      async () => {
        const on = vipOn();
        return on.length === 1 && on[0] === node;
      },
      from,
    );
    say(`  ip: ${VIP} is on ${node}'s eth0, and on no other director's, ${seconds(only.ms)} after the step began.`);
  }

  const touring = Date.now();
  const ready = await until("every server up and a holder for the VIP", async () => {
    const targets = await health();
    const h = await holder();
    return targets.length === 3 && targets.every((t) => t.verdict.state === "up") && h !== null ? h : null;
  });
  say(
    `\nReady ${seconds(Date.now() - begun)} after the demo started: web1, web2 and web3 are up by the votes of ${REGIONS.join(", ")}; ${ready.value} holds ${GROUP}.`,
  );

  say(`\n[tour 1/4] web3 fails for the probes of apac only.`);
  let t0 = Date.now();
  servers.web3.downFor = "apac";
  const seen = await until(
    "apac's vote on web/web3 to turn down",
    async () => {
      const t = await target("web3");
      return t?.observers.find((o) => o.observer === "region:apac")?.state === "down" ? t : null;
    },
    t0,
  );
  await new Promise((r) => setTimeout(r, 3000));
  const still = await target("web3");
  say(
    `  apac voted web3 down after ${seconds(seen.ms)}; the verdict stays ${still.verdict.state}: ${upBy(still)} of ${still.observers.length} regions see it up, a majority. No alert, no failover.`,
  );
  servers.web3.downFor = null;

  say(`\n[tour 2/4] web3 fails for everyone.`);
  t0 = Date.now();
  servers.web3.mode = "down";
  const down = await until("web/web3 to be down", async () => (await target("web3"))?.verdict.state === "down", t0);
  const alerted = await alert("target.down", "web/web3", t0);
  const mailed = await mail("[vigil] DOWN web/web3", t0);
  say(
    `  web3 is down by the quorum after ${seconds(down.ms)}; the target.down alert reached the receiver after ${seconds(alerted)}, and its mail the relay after ${seconds(mailed)}. The VIP group stays where it is.`,
  );
  // Down for a few seconds more, so the dashboard's chart has a period to shade.
  await new Promise((r) => setTimeout(r, 5000));
  t0 = Date.now();
  servers.web3.mode = "ok";
  const up = await until("web/web3 to be up again", async () => (await target("web3"))?.verdict.state === "up", t0);
  const upAlert = await alert("target.up", "web/web3", t0);
  say(`  web3 answers again: up after ${seconds(up.ms)}, target.up alert after ${seconds(upAlert)}.`);

  const first = await holder();
  const other = first === "lb1" ? "lb2" : "lb1";
  say(`\n[tour 3/4] ${first}'s agent is stopped as a crash (SIGKILL): it gives nothing back.`);
  t0 = Date.now();
  await agents[first].stop("SIGKILL");
  const moved = await until(`${other} to hold ${GROUP}`, async () => (await holder()) === other, t0);
  say(
    `  ${other} holds ${GROUP} after ${seconds(moved.ms)}: ${first}'s promises ran out, then ${other} won a majority (itself and the coordinator). Never two holders.`,
  );
  await onTheWire(other, t0);

  say(`\n[tour 4/4] ${first}'s agent starts again.`);
  t0 = Date.now();
  agents[first].start();
  const back = await until(`${first} to hold ${GROUP} again`, async () => (await holder()) === first, t0);
  say(
    `  ${first} holds ${GROUP} again after ${seconds(back.ms)}: it has the higher priority and preempts once it has been up for a lease term.`,
  );
  await onTheWire(first, t0);
  say(`\nTour done in ${seconds(Date.now() - touring)}.`);
}
