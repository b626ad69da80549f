/**
 * The measured webhook workload, run in workerd by bench/webhooks/run.mjs: events are written
 * and queued as the coordinator does, and delivered through the queue to a loopback receiver.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { api } from "../../test/worker/http.js";

const input = JSON.parse((env as unknown as { BENCH: string }).BENCH) as {
  receiver: string;
  spaced: number;
  burst: number;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function emit(count: number): Promise<void> {
  const insert = env.DB.prepare(
    "INSERT INTO events (id, cluster, type, severity, subject, details, at) VALUES (?, 'bench', 'target.down', 'critical', ?, ?, ?)",
  );
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  const now = Date.now();
  await env.DB.batch(
    ids.map((id, i) => insert.bind(id, `t/${i}`, JSON.stringify({ emittedAt: now }), new Date(now).toISOString())),
  );
  for (let i = 0; i < ids.length; i += 100) await env.WEBHOOKS.send({ kind: "events", ids: ids.slice(i, i + 100) });
}

async function receivedCount(): Promise<number> {
  return (await (await fetch(`${input.receiver}/count`)).json()) as number;
}

/** Waits until `count` events have arrived, or `limitMs` passed; answers how many arrived. */
async function until(count: number, limitMs: number): Promise<number> {
  const begun = Date.now();
  let arrived = await receivedCount();
  while (arrived < count && Date.now() - begun <= limitMs) {
    await sleep(20);
    arrived = await receivedCount();
  }
  return arrived;
}

it("delivers", async () => {
  expect((await api("POST", "/v1/clusters", { body: { name: "bench" } })).status).toBe(201);
  expect((await api("POST", "/v1/webhooks", { body: { name: "bench", url: `${input.receiver}/hook` } })).status).toBe(
    201,
  );

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
  console.log(
    `BENCH_RESULT ${JSON.stringify({ burst: input.burst, delivered: input.spaced + delivered, seconds, deliveriesPerSecond: delivered / seconds })}`,
  );
});
