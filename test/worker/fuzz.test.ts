/**
 * No bad input ever produces a 500: random JSON, and valid documents with one value replaced
 * by random JSON, sent to every writing route. Refused writes leave the cluster as it was.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import exampleDocument from "../../examples/classic-lvs.json";
import { ERROR_CODES } from "../../src/core/errors.js";
import { api } from "./http.js";

const CLUSTER = "fuzzed";
const base = `/v1/clusters/${CLUSTER}`;
const example = { ...structuredClone(exampleDocument), cluster: { ...exampleDocument.cluster, name: CLUSTER } };

const writes: [string, string][] = [
  ["POST", `${base}/nodes`],
  ["POST", `${base}/checks`],
  ["POST", `${base}/vip-groups`],
  ["POST", `${base}/sync-groups`],
  ["POST", `${base}/virtual-services`],
  ["PUT", `${base}/virtual-services/web`],
  ["POST", `${base}/virtual-services/web/real-servers`],
  ["PUT", `${base}/config`],
  ["PUT", base],
  ["POST", `${base}/enrollment-tokens`],
  ["POST", "/v1/webhooks"],
  ["POST", "/v1/tokens"],
];

/** Every path to a value inside `value`, as key lists. */
function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [at];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [at, ...entries.flatMap(([k, v]) => paths(v, [...at, k]))];
}

function replaceAt(doc: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1] as string | number] = replacement;
  return copy;
}

const documentPaths = paths(example);
const mutatedDocument = fc
  .tuple(fc.constantFrom(...documentPaths), fc.jsonValue({ maxDepth: 2 }))
  .map(([path, value]) => replaceAt(example, path, value));

function expectClean(reply: { status: number; body: any }) {
  expect(reply.status, JSON.stringify(reply.body)).toBeLessThan(500);
  if (reply.status >= 400) {
    expect(ERROR_CODES).toContain(reply.body.error.code);
    expect(typeof reply.body.error.message).toBe("string");
  }
}

beforeAll(async () => {
  const applied = await api("PUT", `${base}/config`, { body: example });
  expect(applied.status).toBe(200);
});

describe("fuzzed input", () => {
  it("random JSON to every writing route is answered without a 500", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...writes), fc.jsonValue({ maxDepth: 3 }), async ([method, path], body) => {
        expectClean(await api(method, path, { body }));
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it("a cluster document with one value replaced is applied or refused whole, never with a 500", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedDocument, async (doc) => {
        const before = JSON.stringify((await api("GET", `${base}/config`)).body);
        const reply = await api("PUT", `${base}/config?dry_run=true`, { body: doc });
        expectClean(reply);
        expect(JSON.stringify((await api("GET", `${base}/config`)).body)).toBe(before);
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it("a resource with one value replaced is created or refused, never with a 500", async () => {
    const group = example.vipGroups[0];
    const resources = fc.constantFrom<[string, unknown]>(
      [`${base}/vip-groups`, { ...group, name: "VI_F", vips: [{ cidr: "192.168.88.99/24", interface: "eth0" }] }],
      [`${base}/checks`, { ...example.checks[0], name: "fuzz-check" }],
      [`${base}/virtual-services/web/real-servers`, { name: "web9", address: "192.168.88.29", port: 80 }],
    );
    await fc.assert(
      fc.asyncProperty(
        resources.chain(([path, body]) =>
          fc
            .tuple(fc.constant(path), fc.constantFrom(...paths(body).slice(1)), fc.jsonValue({ maxDepth: 2 }))
            .map(([p, at, value]) => [p, replaceAt(body, at, value)] as const),
        ),
        async ([path, body]) => {
          const reply = await api("POST", path, { body });
          expectClean(reply);
          if (reply.status === 201) {
            const name = (reply.body as { name: string }).name;
            expect((await api("DELETE", `${path}/${encodeURIComponent(name)}`)).status).toBe(204);
          }
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);
});
