/**
 * Routes declared once: the same spec registers the Hono handler, parses and validates
 * the body and query with its zod schemas, checks the caller's role, and feeds the
 * OpenAPI document.
 */
import type { Context, Hono } from "hono";
import type * as z from "zod";
import type { ErrorCode } from "../core/errors.js";
import { authenticate, authorize, type Role } from "./auth.js";
import { parseWith, readJson } from "./body.js";
import type { AppEnv } from "./context.js";

export type Method = "get" | "post" | "put" | "delete";

export interface RouteSpec<
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: Method;
  /** Hono path, e.g. /v1/clusters/:cluster/nodes/:name */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  role: Role;
  body?: B;
  query?: Q;
  /** Fields filled in from the path before the body is parsed (a PUT's name). */
  bodyDefaults?: (c: Context<AppEnv>) => Record<string, unknown>;
  /** Omitted for 204 responses. */
  response?: z.ZodType;
  status?: 200 | 201 | 202 | 204;
  /** Error codes this route may answer with, beyond the ones every route has. */
  errors?: ErrorCode[];
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
export type Handler<B, Q> = (c: Context<AppEnv>, input: { body: Out<B>; query: Out<Q> }) => Promise<Response>;

export class Router {
  readonly routes: RouteSpec[] = [];

  constructor(private readonly app: Hono<AppEnv>) {}

  add<B extends z.ZodType | undefined, Q extends z.ZodType | undefined>(
    spec: RouteSpec<B, Q>,
    handler: Handler<B, Q>,
  ): void {
    this.routes.push(spec);
    this.app.on(spec.method.toUpperCase(), spec.path, async (c) => {
      if (spec.role !== "public") {
        const principal = await authenticate(c);
        authorize(principal, spec.role);
        c.set("principal", principal);
      }
      const query = (spec.query ? parseWith(spec.query, c.req.query(), ["query"]) : undefined) as Out<Q>;
      let raw = spec.body ? await readJson(c) : undefined;
      if (spec.bodyDefaults && raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
        raw = { ...spec.bodyDefaults(c), ...raw };
      }
      const body = (spec.body ? parseWith(spec.body, raw) : undefined) as Out<B>;
      return handler(c, { body, query });
    });
  }

  /** The methods registered for a concrete path, for 405 answers. */
  methodsFor(path: string): Method[] {
    return this.routes
      .filter((r) => new RegExp(`^${r.path.replace(/:[A-Za-z]+/g, "[^/]+")}/?$`).test(path))
      .map((r) => r.method);
  }
}
