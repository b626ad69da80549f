/** Requests against the Worker under test, as an operator's client would send them. */
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

export const ADMIN = env.VIGIL_ADMIN_TOKEN;

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function api<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ADMIN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined = options.raw;
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await exports.default.fetch(
    new Request(`http://vigil.test${path}`, { method, headers, body: payload }),
  );
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** A dashboard request, as a browser sends it (no redirects followed). */
export async function page(
  method: string,
  path: string,
  cookie: string | null,
  form?: Record<string, string>,
  headers = {},
) {
  const response = await exports.default.fetch(
    new Request(`http://vigil.test${path}`, {
      method,
      redirect: "manual",
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : null,
    }),
  );
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Signs in to the dashboard with `token`; answers the session cookie. */
export async function signIn(token: string): Promise<{ cookie: string; setCookie: string }> {
  const reply = await page("POST", "/ui/sign-in", null, { token, next: "/ui" });
  expect(reply.status).toBe(303);
  const setCookie = reply.headers.get("set-cookie") ?? "";
  return { cookie: setCookie.split(";")[0] ?? "", setCookie };
}
