import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/core/errors.js";
import { api } from "./http.js";

describe("GET /v1/openapi.json", () => {
  it("documents every route with its schemas", async () => {
    const { status, body: doc } = await api("GET", "/v1/openapi.json", { token: null });
    expect(status).toBe(200);
    expect(doc.openapi).toBe("3.1.0");
    const operations = Object.values(doc.paths).flatMap((p: any) => Object.values(p)) as any[];
    const ids = operations.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      "listClusters",
      "applyClusterConfig",
      "createNode",
      "putVipGroup",
      "deleteSyncGroup",
      "getVirtualService",
      "createRealServer",
      "listChecks",
      "createWebhook",
      "createToken",
      "createEnrollmentToken",
      "listEvents",
      "getHealth",
      "listRevisions",
    ]) {
      expect(ids).toContain(id);
    }
    const apply = doc.paths["/v1/clusters/{cluster}/config"].put;
    expect(apply.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/ClusterDocumentInput",
    });
    expect(apply.parameters.map((p: any) => `${p.in}:${p.name}`)).toEqual(["path:cluster", "query:dry_run"]);
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(ERROR_CODES);
    expect(apply.responses.default["x-vigil-error-codes"]).toEqual([
      "unauthorized",
      "forbidden",
      "invalid_json",
      "invalid_field",
      "unsupported_media_type",
      "payload_too_large",
      "not_found",
      "unknown_reference",
      "duplicate_name",
      "duplicate_vip",
      "conflict",
    ]);
  });

  it("resolves every $ref and carries the vocabulary", async () => {
    const { body: doc } = await api("GET", "/v1/openapi.json", { token: null });
    const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const ref of new Set(refs)) {
      expect(doc.components.schemas, ref).toHaveProperty(ref.slice(22, -1));
    }
    const service = doc.components.schemas.VirtualServiceInput;
    expect(service.properties.scheduler.enum).toEqual([
      "rr",
      "wrr",
      "lc",
      "wlc",
      "lblc",
      "lblcr",
      "dh",
      "sh",
      "sed",
      "nq",
      "mh",
    ]);
    expect(service.required).toEqual(["name", "vipGroup"]);
    expect(doc.components.schemas.VirtualService.required).toContain("scheduler");
  });
});
