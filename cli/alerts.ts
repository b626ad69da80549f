/**
 * `vigil alerts`: the subscriptions events go to, webhooks and email alike. apply creates or
 * replaces one from a file (YAML or JSON, such as the email subscription `vigil import
 * keepalived` writes); test sends one test event; deliveries shows what each attempt got.
 */
import { attemptAnswer, type DeliveryWithAttempts, type Webhook } from "../src/core/webhook.js";
import type { ApiClient } from "./client.js";
import { readDocument, UsageError } from "./commands.js";

type Print = (line: string) => void;

/** A subscription as the API shows it. */
type Subscription = Webhook;

const route = (name: string, rest = "") => `/v1/webhooks/${encodeURIComponent(name)}${rest}`;

/** Where a subscription's events go, in a few words. */
function destination(s: Subscription): string {
  return s.format === "email" ? `mail to ${s.email?.to.join(", ")} via ${s.url}` : `${s.format} to ${s.url}`;
}

export async function alertsList(api: ApiClient, json: boolean, print: Print): Promise<number> {
  const all = await api.call<Subscription[]>("GET", "/v1/webhooks");
  if (json) print(JSON.stringify(all, null, 2));
  else if (all.length === 0) print("no subscriptions: vigil alerts apply -f FILE adds one");
  for (const s of json ? [] : all) {
    const only = [...s.filter.events, ...s.filter.targets].join(", ");
    const state = !s.enabled ? " (disabled)" : s.failingSince ? ` (failing since ${s.failingSince})` : "";
    print(`${s.name}: ${destination(s)}${only ? `; only ${only}` : ""}${state}`);
  }
  return 0;
}

/**
 * Creates the subscription the file describes, or replaces the one of that name. A relay's
 * password is best kept out of files: VIGIL_SMTP_PASSWORD gives it when the file has none.
 */
export async function alertsApply(
  api: ApiClient,
  file: string,
  options: { dryRun: boolean },
  print: Print,
): Promise<number> {
  const doc = readDocument(file) as Record<string, unknown> & { email?: { username?: unknown } };
  if (typeof doc?.name !== "string") throw new UsageError(`${file}: no name in the subscription`);
  const password = process.env.VIGIL_SMTP_PASSWORD;
  const body =
    doc.smtpPassword === undefined && doc.email?.username && password ? { ...doc, smtpPassword: password } : doc;
  const check = await api.call<{ exists: boolean; webhook: Subscription }>("POST", "/v1/webhooks?dry_run=true", body);
  const what = `${doc.name}: ${destination(check.webhook)}`;
  if (options.dryRun) {
    print(`dry run: ${what} would be ${check.exists ? "replaced" : "created"}; nothing changed`);
    return 0;
  }
  const saved = check.exists
    ? await api.call<{ secret?: string }>("PUT", route(doc.name), body)
    : await api.call<{ secret?: string }>("POST", "/v1/webhooks", body);
  print(`${check.exists ? "replaced" : "created"} ${what}`);
  if (saved.secret) print(`signing secret (shown once): ${saved.secret}`);
  return 0;
}

export async function alertsTest(api: ApiClient, name: string, print: Print): Promise<number> {
  const delivery = await api.call<{ id: string }>("POST", route(name, "/test"));
  print(`queued a test event for ${name} (delivery ${delivery.id}); vigil alerts deliveries ${name} shows how it went`);
  return 0;
}

export async function alertsDeliveries(
  api: ApiClient,
  name: string,
  options: { limit: number; json: boolean },
  print: Print,
): Promise<number> {
  const subscription = await api.call<Subscription>("GET", route(name));
  const list = await api.call<Omit<DeliveryWithAttempts, "attemptLog">[]>(
    "GET",
    route(name, `/deliveries?limit=${options.limit}`),
  );
  const full = await Promise.all(
    list.map((d) => api.call<DeliveryWithAttempts>("GET", route(name, `/deliveries/${d.id}`))),
  );
  if (options.json) {
    print(JSON.stringify(full, null, 2));
    return 0;
  }
  if (full.length === 0) print(`no deliveries for ${name} yet`);
  for (const d of full) {
    print(`${d.createdAt}  ${d.status.padEnd(9)}  ${d.eventType} ${d.subject}  (${d.id})`);
    for (const a of d.attemptLog)
      print(
        `  #${a.n} ${a.at}  ${attemptAnswer(subscription.format, a.status)}  ${a.latencyMs} ms${a.error ? `  ${a.error}` : ""}`,
      );
    if (d.status === "failed" && d.lastError) print(`  failed: ${d.lastError}`);
  }
  return 0;
}
