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

  it("leaves out only the headers it sets itself, by their whole name in any case", () => {
    expect(
      requestText({
        path: "/",
        host: "h",
        headers: {
          CONNECTION: "keep-alive",
          "Content-Length": "5",
          "transfer-encoding": "chunked",
          "X-Host": "a",
          Hosts: "b",
        },
      }),
    ).toBe("GET / HTTP/1.1\r\nHost: h\r\nX-Host: a\r\nHosts: b\r\nConnection: close\r\n\r\n");
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
    ["", "connection closed before the response headers"],
    [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWi",
      "connection closed in the middle of a chunked body",
    ],
    [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n",
      "connection closed in the middle of a chunked body",
    ],
  ])("refuses %j once the peer has closed", (raw, message) => {
    expect(() => parseResponse(bytes(raw), true)).toThrow(message);
  });

  it.each([
    [
      "a status line that does not start the response",
      "XHTTP/1.1 200 OK\r\n\r\n",
      "not an HTTP response: XHTTP/1.1 200 OK",
    ],
    [
      "a long first line, cut to 60 characters",
      `${"x".repeat(100)}\r\n\r\n`,
      `not an HTTP response: ${"x".repeat(60)}`,
    ],
    [
      "a chunk size that is not hex",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
      "bad chunk size",
    ],
  ])("refuses %s at once", (_name, raw, message) => {
    expect(() => parseResponse(bytes(raw), false)).toThrow(new Error(message));
  });

  it("waits for a chunk size line and a chunk's closing CRLF", () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect(parseResponse(bytes(`${head}4`), false)).toEqual({ complete: false });
    expect(parseResponse(bytes(`${head}4\r\nWiki`), false)).toEqual({ complete: false });
    expect(parseResponse(bytes(`${head}4\r\nWiki\r`), false)).toEqual({ complete: false });
    const done = parseResponse(bytes(`${head}4\r\nWiki\r\n0\r\n\r\n`), false);
    expect(done.complete && text(done.body)).toBe("Wiki");
  });

  it("reads header names trimmed and in lowercase, skips lines without a name, and takes a body of exactly its length", () => {
    const done = parseResponse(
      bytes("HTTP/1.1 204 No Content\r\n X-B : v \r\n: nameless\r\nno colon\r\nContent-Length: 0\r\n\r\n"),
      false,
    );
    expect(done.complete && [done.status, done.headers, done.body.byteLength]).toEqual([
      204,
      { "x-b": "v", "content-length": "0" },
      0,
    ]);
  });
});
