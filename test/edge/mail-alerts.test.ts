/**
 * Email subscriptions end to end in workerd: events go through the webhook queue, become
 * mails, and are handed to real SMTP relays on loopback (test/edge/mail-relays.ts), which
 * read each one back with a mail parser. Retries, the attempt log and webhook.failing are the
 * webhooks' own, driven by what the relay answers.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { ADMIN, api, page, signIn } from "../worker/http.js";
import { emit as emitIn } from "./emit.js";
import type { ReceivedMail } from "./mail-relays.js";
import type { Received } from "./servers.js";

const ports = inject("ports");
const CLUSTER = "mailed";
const PASSWORD = "s3cret-relay-password";
let n = 0;

const relayUrl = (port: number) => `smtp://127.0.0.1:${port}`;
const emit = (type: Parameters<typeof emitIn>[1], subject: string, details?: Record<string, unknown>) =>
  emitIn(CLUSTER, type, subject, type === "target.up" ? "info" : "critical", details);

async function mailsTo(address: string): Promise<ReceivedMail[]> {
  return (await fetch(`http://127.0.0.1:${ports.hooks}/mail-log?to=${encodeURIComponent(address)}`)).json();
}

async function waitForMails(address: string, count: number, limitMs = 10_000): Promise<ReceivedMail[]> {
  await expect
    .poll(async () => (await mailsTo(address)).length, { timeout: limitMs, interval: 100 })
    .toBeGreaterThanOrEqual(count);
  return mailsTo(address);
}

/** An email subscription to the authenticating relay for one fresh recipient and the given targets. */
async function subscribeMail(
  local: string,
  targets: string[],
  over: { email?: Record<string, unknown>; [k: string]: unknown } = {},
) {
  const to = `${local}+${++n}@example.net`;
  const name = `mail${n}`;
  const reply = await api("POST", "/v1/webhooks", {
    body: {
      name,
      format: "email",
      url: relayUrl(ports.relayAuth),
      filter: { targets },
      smtpPassword: PASSWORD,
      ...over,
      email: { from: "vigil@lb.example.net", to: [to], username: "vigil", ...over.email },
    },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return { name, to, reply };
}

const deliveries = async (name: string) => (await api("GET", `/v1/webhooks/${name}/deliveries`)).body;
const attempts = async (name: string, id: string) =>
  (await api("GET", `/v1/webhooks/${name}/deliveries/${id}`)).body.attemptLog as {
    status: number | null;
    error: string | null;
  }[];

/** Waits until the subscription's newest delivery has left pending and held. */
async function settled(name: string, limitMs = 15_000) {
  await expect
    .poll(async () => (await deliveries(name))[0]?.status, { timeout: limitMs, interval: 100 })
    .toMatch(/delivered|failed/);
  return (await deliveries(name))[0];
}

beforeAll(async () => {
  expect((await api("POST", "/v1/clusters", { body: { name: CLUSTER } })).status).toBe(201);
});

describe("email alerts through the queue", () => {
  it("mails a down and its up over STARTTLS with AUTH, in one thread, with the dashboard link", async () => {
    const { name, to, reply } = await subscribeMail("ops", ["web/web1"]);
    expect(reply.body).not.toHaveProperty("secret");
    expect(JSON.stringify(reply.body)).not.toContain(PASSWORD);
    await emit("target.down", "web/web1", { down: 3, fresh: 3, error: "status 503", from: "up", to: "down" });
    await waitForMails(to, 1);
    await emit("target.up", "web/web1", { from: "down", to: "up" });
    const [down, up] = await waitForMails(to, 2);
    expect(down).toMatchObject({
      relay: "relay-auth",
      tls: true,
      user: "vigil",
      envelopeFrom: "vigil@lb.example.net",
      envelopeTo: [to],
      subject: "[vigil] DOWN web/web1 (3 of 3 observers: status 503)",
    });
    expect(up?.subject).toBe("[vigil] UP web/web1");
    expect(down?.text).toContain(`http://vigil.test/ui/clusters/${CLUSTER}/timeline`);
    // One thread: both name the incident, and each mail is its own message.
    expect(up?.references).toEqual(down?.references);
    expect(up?.inReplyTo).toBe(down?.inReplyTo);
    expect(up?.messageId).not.toBe(down?.messageId);
    // The delivery's id is the Message-ID, and the attempt log holds the relay's 250.
    const list = await deliveries(name);
    expect(list.map((d: { status: string }) => d.status)).toEqual(["delivered", "delivered"]);
    const ids = list.map((d: { id: string }) => `<${d.id}@lb.example.net>`);
    expect(ids).toContain(down?.messageId);
    expect(await attempts(name, list[0].id)).toMatchObject([{ status: 250, error: null }]);
    // The timeline page lists the mails beside webhook deliveries, with the relay's answer.
    const { cookie } = await signIn(ADMIN);
    const timeline = (await page("GET", `/ui/clusters/${CLUSTER}/timeline`, cookie)).text;
    const section = timeline.slice(timeline.indexOf(`data-subscription="${name}"`));
    expect(section).toMatch(
      new RegExp(`^data-subscription="${name}"><h3>${name} <small>email to ${to.replace("+", "\\+")}</small>`),
    );
    expect(section).toContain("SMTP 250");
  });

  it("does not retry a 5xx: the delivery fails at once, with the relay's words", async () => {
    const { name } = await subscribeMail("refuse", ["refused/1"]);
    await emit("target.down", "refused/1");
    const delivery = await settled(name);
    expect(delivery).toMatchObject({ status: "failed", attempts: 1 });
    expect(delivery.lastError).toContain("550 5.1.1 no such user here");
    expect(delivery.lastError).toContain("the relay answered 550 at RCPT TO; not retried");
  });

  it("retries a 4xx, with the same Message-ID, until the relay takes it", async () => {
    const { name, to } = await subscribeMail("flaky", ["flaky/1"]);
    await emit("target.down", "flaky/1");
    const [mail] = await waitForMails(to, 1, 12_000);
    const delivery = await settled(name);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 2 });
    expect(mail?.messageId).toBe(`<${delivery.id}@lb.example.net>`);
    const log = await attempts(name, delivery.id);
    expect(log.map((a) => a.status)).toEqual([451, 250]);
    expect(log[0]?.error).toContain("451 4.3.0 try again later");
  });

  it("retries a connection cut mid-DATA, and after three failures tells the other subscriptions", async () => {
    const { name, to } = await subscribeMail("drop", ["dropped/1"]);
    const watcher = `${name}-watch`;
    const created = await api("POST", "/v1/webhooks", {
      body: { name: watcher, url: `http://127.0.0.1:${ports.hooks}/hook/ok`, filter: { events: ["webhook.failing"] } },
    });
    expect(created.status).toBe(201);
    await emit("target.down", "dropped/1");
    const failing = async () =>
      ((await (await fetch(`http://127.0.0.1:${ports.hooks}/hook-log?path=/hook/ok`)).json()) as Received[]).filter(
        (r) => JSON.parse(r.body).type === "webhook.failing" && JSON.parse(r.body).data.subject === name,
      );
    await expect.poll(async () => (await failing()).length, { timeout: 20_000, interval: 200 }).toBe(1);
    const [delivery] = await deliveries(name);
    expect(delivery.attempts).toBeGreaterThanOrEqual(3);
    expect(delivery.status).toBe("pending");
    const log = await attempts(name, delivery.id);
    expect(log[0]).toMatchObject({ status: null });
    expect(log[0]?.error).toMatch(/^message: connection lost/);
    expect(await mailsTo(to)).toEqual([]);
    expect((await api("GET", `/v1/webhooks/${name}`)).body.consecutiveFailures).toBeGreaterThanOrEqual(3);
  });

  it("gives up an attempt at the subscription's timeout, and retries it", async () => {
    const { name } = await subscribeMail("ops", ["slow/1"], {
      url: relayUrl(ports.silent),
      email: { timeout: 1 },
    });
    await emit("target.down", "slow/1");
    const logged = async () => {
      const [delivery] = await deliveries(name);
      return delivery ? (await attempts(name, delivery.id)).length : 0;
    };
    await expect.poll(logged, { timeout: 10_000, interval: 100 }).toBeGreaterThanOrEqual(1);
    const [delivery] = await deliveries(name);
    const [first] = await attempts(name, delivery.id);
    expect(first).toMatchObject({ status: null, error: "timeout after 1 s" });
    expect(delivery.status).toBe("pending");
  });

  it("mails nothing for a down that recovers within the hold-down, and one mail for a down that stays", async () => {
    const { name, to } = await subscribeMail("ops", ["blip/1", "stays/1"], { holdDown: 2 });
    await emit("target.down", "blip/1");
    await emit("target.up", "blip/1");
    await emit("target.down", "stays/1");
    const [mail] = await waitForMails(to, 1, 10_000);
    expect(mail?.subject).toMatch(/^\[vigil\] DOWN stays\/1/);
    await expect
      .poll(async () => (await deliveries(name)).map((d: { status: string }) => d.status).sort(), { timeout: 10_000 })
      .toEqual(["cancelled", "cancelled", "delivered"]);
    expect(await mailsTo(to)).toHaveLength(1);
  });

  it("sends one mail for POST .../test", async () => {
    const { name, to } = await subscribeMail("ops", ["nothing"]);
    const test = await api("POST", `/v1/webhooks/${name}/test`);
    expect(test.status).toBe(202);
    const [mail] = await waitForMails(to, 1);
    expect(mail?.subject).toMatch(/^\[vigil\] /);
    expect(mail?.messageId).toBe(`<${test.body.id}@lb.example.net>`);
    expect(mail?.text).toContain("http://vigil.test/ui");
  });
});

describe("email subscriptions in the API", () => {
  it("shows the settings, never the password, and keeps it through a PUT that leaves it out", async () => {
    const { name, to } = await subscribeMail("ops", ["kept/1"]);
    const shown = (await api("GET", `/v1/webhooks/${name}`)).body;
    expect(shown).toMatchObject({
      format: "email",
      url: relayUrl(ports.relayAuth),
      hasSmtpPassword: true,
      secretPrefixes: [],
      email: { to: [to], username: "vigil", starttls: "required", timeout: 30, dashboardUrl: "http://vigil.test" },
    });
    expect(JSON.stringify(shown)).not.toContain(PASSWORD);
    const { smtpPassword: _, ...body } = {
      name,
      format: "email",
      url: relayUrl(ports.relayAuth),
      filter: { targets: ["kept/1"] },
      email: { from: "vigil@lb.example.net", to: [to], username: "vigil" },
      smtpPassword: undefined,
    };
    expect((await api("PUT", `/v1/webhooks/${name}`, { body })).status).toBe(200);
    await api("POST", `/v1/webhooks/${name}/test`);
    const [mail] = await waitForMails(to, 1);
    expect(mail?.user).toBe("vigil");
    // Another user needs its own password.
    const other = await api("PUT", `/v1/webhooks/${name}`, {
      body: { ...body, email: { ...body.email, username: "someone-else" } },
    });
    expect(other.status).toBe(400);
    expect(other.body.error.issues[0]).toMatchObject({ field: "smtpPassword" });
  });

  it("checks a subscription with dry_run=true and stores nothing", async () => {
    const body = {
      name: "mail-dry",
      format: "email",
      url: relayUrl(ports.relay),
      email: { from: "vigil@lb.example.net", to: ["ops@example.net"] },
    };
    const reply = await api("POST", "/v1/webhooks?dry_run=true", { body });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ dryRun: true, exists: false, webhook: { name: "mail-dry", format: "email" } });
    expect((await api("GET", "/v1/webhooks/mail-dry")).status).toBe(404);
    const bad = await api("POST", "/v1/webhooks?dry_run=true", {
      body: { ...body, url: "smtp://relay.example.net:25" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0]).toMatchObject({ field: "url" });
    expect(bad.body.error.issues[0].message).toContain("port 25 is closed to Workers");
  });

  it("refuses to rotate a secret an email subscription does not have", async () => {
    const { name } = await subscribeMail("ops", ["none"]);
    const reply = await api("POST", `/v1/webhooks/${name}/rotate-secret`, { body: {} });
    expect(reply.status).toBe(400);
    expect(reply.body.error.issues[0].message).toContain("not signed");
  });
});
