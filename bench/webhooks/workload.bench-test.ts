/**
 * The measured webhook workload, run in workerd by bench/webhooks/run.mjs: events are written
 * and queued as the coordinator does, and delivered through the queue to a loopback receiver;
 * then, in a cluster of their own, mailed by an email subscription to a loopback SMTP relay.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { api } from "../../test/worker/http.js";

const input = JSON.parse((env as unknown as { BENCH: string }).BENCH) as {
  receiver: string;
  relay: string;
  spaced: number;
  burst: number;
  mails: number;
  mailBurst: number;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let emitted = 0;

async function emit(count: number, cluster = "bench"): Promise<void> {
  const insert = env.DB.prepare(
    "INSERT INTO events (id, cluster, type, severity, subject, details, at) VALUES (?, ?, 'target.down', 'critical', ?, ?, ?)",
  );
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  const now = Date.now();
  await env.DB.batch(
    ids.map((id) =>
      insert.bind(id, cluster, `t/${++emitted}`, JSON.stringify({ emittedAt: now }), new Date(now).toISOString()),
    ),
  );
  for (let i = 0; i < ids.length; i += 100) await env.WEBHOOKS.send({ kind: "events", ids: ids.slice(i, i + 100) });
}

async function receivedCount(what = "count"): Promise<number> {
  return (await (await fetch(`${input.receiver}/${what}`)).json()) as number;
}

/** Waits until `count` events (or mails) have arrived, or `limitMs` passed; answers how many arrived. */
async function until(count: number, limitMs: number, what = "count"): Promise<number> {
  const begun = Date.now();
  let arrived = await receivedCount(what);
  while (arrived < count && Date.now() - begun <= limitMs) {
    await sleep(20);
    arrived = await receivedCount(what);
  }
  return arrived;
}

it("delivers", async () => {
  expect((await api("POST", "/v1/clusters", { body: { name: "bench" } })).status).toBe(201);
  const hook = { name: "bench", url: `${input.receiver}/hook`, filter: { clusters: ["bench"] } };
  expect((await api("POST", "/v1/webhooks", { body: hook })).status).toBe(201);

  // Latency: one event at a time, as alerts come.
  console.log("BENCH_MARK spaced");
  for (let i = 0; i < input.spaced; i++) {
    await emit(1);
    if ((await until(i + 1, 10_000)) < i + 1) throw new Error(`event ${i + 1} was not delivered within 10 s`);
  }
  // Throughput: a burst of events at once.
  console.log("BENCH_MARK burst");
  const before = await receivedCount();
  const began = Date.now();
  await emit(input.burst);
  const delivered = (await until(before + input.burst, 120_000)) - before;
  const seconds = (Date.now() - began) / 1000;

  // Email: the same path, each delivery a mail handed to the relay over a socket.
  expect((await api("POST", "/v1/clusters", { body: { name: "bench-mail" } })).status).toBe(201);
  const mail = {
    name: "bench-mail",
    format: "email",
    url: input.relay,
    filter: { clusters: ["bench-mail"] },
    email: { from: "vigil@bench.example", to: ["ops@bench.example"], starttls: "off" },
  };
  expect((await api("POST", "/v1/webhooks", { body: mail })).status).toBe(201);
  console.log("BENCH_MARK mail");
  for (let i = 0; i < input.mails; i++) {
    await emit(1, "bench-mail");
    if ((await until(i + 1, 10_000, "mail-count")) < i + 1) throw new Error(`mail ${i + 1} did not arrive within 10 s`);
  }
  console.log("BENCH_MARK mailBurst");
  const mailBegan = Date.now();
  await emit(input.mailBurst, "bench-mail");
  const mailed = (await until(input.mails + input.mailBurst, 120_000, "mail-count")) - input.mails;
  const mailSeconds = (Date.now() - mailBegan) / 1000;
  // How long each mail's SMTP dialogue took (connection to the relay's 250), as the attempt log has it.
  const { results } = await env.DB.prepare(
    "SELECT a.latency_ms AS ms FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN webhooks w ON w.id = d.webhook_id WHERE w.name = 'bench-mail'",
  ).all<{ ms: number }>();
  console.log(
    `BENCH_RESULT ${JSON.stringify({ burst: input.burst, delivered: input.spaced + delivered, seconds, deliveriesPerSecond: delivered / seconds, mailed: input.mails + mailed, mailSeconds, mailsPerSecond: mailed / mailSeconds, dialogueMs: results.map((row) => row.ms) })}`,
  );
});
