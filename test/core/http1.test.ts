import { describe, expect, it } from "vitest";
import { parseResponse, requestText } from "../../src/core/http1.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("requestText", () => {
  it("sends the check's Host and headers and closes the connection", () => {
    expect(
      requestText({
        path: "/health",
        host: "www.example.test",
        headers: { "User-Agent": "vigil-probe/1", Host: "ignored" },
      }),
    ).toBe("GET /health HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: vigil-probe/1\r\nConnection: close\r\n\r\n");
  });
});

describe("parseResponse", () => {
  it("waits for the head, then for Content-Length bytes", () => {
    expect(parseResponse(bytes("HTTP/1.1 200 OK\r\nContent-Le"), false)).toEqual({ complete: false });
    expect(parseResponse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), false)).toEqual({ complete: false });
    const done = parseResponse(
      bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nabcdeEXTRA"),
      false,
    );
    expect(done.complete && [done.status, done.headers["x-a"], text(done.body)]).toEqual([200, "1, 2", "abcde"]);
  });

  it("decodes chunked bodies", () => {
    const raw = "HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6;x=y\r\npedia \r\n0\r\n\r\n";
    expect(parseResponse(bytes(raw.slice(0, -10)), false)).toEqual({ complete: false });
    const done = parseResponse(bytes(raw), false);
    expect(done.complete && [done.status, text(done.body)]).toEqual([503, "Wikipedia "]);
  });

  it("reads to the end when there is no length", () => {
    expect(parseResponse(bytes("HTTP/1.0 200 OK\r\n\r\nbody"), false)).toEqual({ complete: false });
    const done = parseResponse(bytes("HTTP/1.0 200 OK\r\n\r\nbody"), true);
    expect(done.complete && text(done.body)).toBe("body");
  });

  it.each([
    ["SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP response: SSH-2.0-OpenSSH_9.2"],
    ["HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", "connection closed after 3 of 9 body bytes"],
    ["HTTP/1.1 200 OK\r\n", "connection closed before the response headers"],
  ])("refuses %j once the peer has closed", (raw, message) => {
    expect(() => parseResponse(bytes(raw), true)).toThrow(message);
  });
});
