/** The control plane's API as the CLI uses it: URL and token from flags, the environment or `vigil login`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async request(method: string, route: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
    let response: Response;
    try {
      response = await fetch(new URL(route, this.url), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new ApiError(`cannot reach the control plane at ${this.url}: ${(err as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: response.status, body: parsed, text };
  }

  /** A call that must succeed: a refusal becomes an ApiError with the API's own message. */
  async call<T = any>(method: string, route: string, body?: unknown): Promise<T> {
    const reply = await this.request(method, route, body);
    if (reply.status >= 400) {
      const error = reply.body?.error;
      const where = error?.issues?.[0]?.field ? ` (${error.issues[0].field})` : "";
      throw new ApiError(
        `${method} ${route}: ${reply.status} ${error?.code ?? ""}${where}: ${error?.message ?? reply.text.slice(0, 200)}`,
        reply.status,
      );
    }
    return (reply.body ?? reply.text) as T;
  }
}
