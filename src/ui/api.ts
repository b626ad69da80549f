/**
 * The dashboard reads and writes through the Worker's own API, in process, with the session's
 * token: the API's roles, validation and error codes apply to every page and button unchanged.
 */
import type { Context, Hono } from "hono";
import type { AppEnv } from "../api/context.js";

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class UiApi {
  constructor(
    private readonly app: Hono<AppEnv>,
    private readonly c: Context<AppEnv>,
    private readonly token: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const request = new Request(new URL(path, this.c.req.url), {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const response = await this.app.fetch(request, this.c.env, this.c.executionCtx);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** A read that must succeed; a refusal becomes an ApiFailure with the API's code and message. */
  async get<T = any>(path: string): Promise<T> {
    const { status, body } = await this.call("GET", path);
    if (status >= 400)
      throw new ApiFailure(status, body?.error?.code ?? "error", body?.error?.message ?? `HTTP ${status}`);
    return body as T;
  }
}
