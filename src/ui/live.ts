/**
 * A Server-Sent Events stream of one page's main area: rendered every 2 s and sent as an
 * `update` event whenever it changed, a comment otherwise (so a dead connection shows). The
 * stream ends after 10 minutes and the browser reconnects, so no request lives forever.
 */
const EVERY_MS = 2000;
const LIFETIME_MS = 10 * 60_000;

/**
 * One event. SSE ends a line at CR, LF or CRLF alike, so every one of them in the data starts
 * a new `data:` line: a bare CR from a probed server's banner cannot inject `event:` or `retry:`.
 */
export function sseEvent(name: "update" | "problem", data: string): string {
  return `event: ${name}\n${data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;
}

export function liveStream(render: () => Promise<string>): Response {
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = "";
  const began = Date.now();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const tick = async () => {
        try {
          const html = await render();
          controller.enqueue(encoder.encode(html === last ? ": unchanged\n\n" : sseEvent("update", html)));
          last = html;
        } catch (err) {
          controller.enqueue(encoder.encode(sseEvent("problem", (err as Error).message)));
        }
        if (Date.now() - began > LIFETIME_MS) controller.close();
        else timer = setTimeout(() => void tick().catch(() => undefined), EVERY_MS);
      };
      controller.enqueue(encoder.encode("retry: 2000\n\n"));
      void tick().catch(() => undefined);
    },
    cancel() {
      clearTimeout(timer);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
