/** The OpenAPI 3.1 document, built from the route specs and the same zod schemas that validate. */
import * as z from "zod";
import { ERROR_CODES, type ErrorCode } from "../core/errors.js";
import type { RouteSpec } from "./router.js";

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** Every schema with a `.meta({ id })` becomes a component, once as output and once (`…Input`) as input. */
function components(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const io of ["output", "input"] as const) {
    const suffix = io === "input" ? "Input" : "";
    const { schemas } = z.toJSONSchema(z.globalRegistry, {
      io,
      unrepresentable: "any",
      uri: (id) => `#/components/schemas/${id}${id.endsWith("Input") ? "" : suffix}`,
    });
    for (const [id, schema] of Object.entries(schemas)) {
      const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
      out[id.endsWith("Input") ? id : `${id}${suffix}`] = rest;
    }
  }
  return out;
}

function schemaRef(schema: z.ZodType, io: "input" | "output"): unknown {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return ref(io === "input" && !id.endsWith("Input") ? `${id}Input` : id);
  return z.toJSONSchema(schema, { io, unrepresentable: "any" });
}

/** The error codes a route can answer with: those its shape implies, then its own. */
function errorCodes(r: RouteSpec): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (r.role !== "public") codes.push("unauthorized");
  if (r.role === "admin") codes.push("forbidden");
  if (r.body) codes.push("invalid_json", "invalid_field", "unsupported_media_type", "payload_too_large");
  else if (r.query) codes.push("invalid_field");
  if (r.path.includes(":")) codes.push("not_found");
  return [...new Set([...codes, ...(r.errors ?? [])])];
}

export function openApiDocument(routes: RouteSpec[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const query =
      r.query instanceof z.ZodObject
        ? Object.entries(r.query.shape as Record<string, z.ZodType>).map(([name, s]) => ({
            name,
            in: "query",
            required: !s.safeParse(undefined).success,
            schema: z.toJSONSchema(s, { io: "input", unrepresentable: "any" }),
          }))
        : [];
    const status = r.status ?? (r.response ? 200 : 204);
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      ...(r.role === "public" ? { security: [] } : { "x-vigil-role": r.role }),
      parameters: [...params, ...query],
      ...(r.body
        ? { requestBody: { required: true, content: { "application/json": { schema: schemaRef(r.body, "input") } } } }
        : {}),
      responses: {
        [status]: r.response
          ? { description: "OK", content: { "application/json": { schema: schemaRef(r.response, "output") } } }
          : { description: "No content" },
        default: {
          description: `An error: ${errorCodes(r).join(", ")}`,
          "x-vigil-error-codes": errorCodes(r),
          content: { "application/json": { schema: ref("Error") } },
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Vigil control plane", version },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        ...components(),
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: {
                code: { enum: ERROR_CODES },
                message: { type: "string" },
                issues: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      code: { type: "string" },
                      field: { type: "string" },
                      path: { type: "array", items: { type: ["string", "integer"] } },
                      message: { type: "string" },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}
