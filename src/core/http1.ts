/**
 * A minimal HTTP/1.1 exchange for probes: one GET with `Connection: close`, and a response
 * parser that knows when the response is complete (Content-Length, chunked, or the end of the
 * stream). Probes speak HTTP over a raw connection so that the Host header is what the check
 * says, as keepalived's `virtualhost` does, while the connection goes to the real server.
 */

export interface HttpRequest {
  path: string;
  host: string;
  headers: Record<string, string>;
}

/** The request bytes; `headers` were validated to hold no CR or LF. */
export function requestText(req: HttpRequest): string {
  const lines = [`GET ${req.path} HTTP/1.1`, `Host: ${req.host}`];
  for (const [name, value] of Object.entries(req.headers)) {
    if (!/^(host|connection|content-length|transfer-encoding)$/i.test(name)) lines.push(`${name}: ${value}`);
  }
  lines.push("Connection: close", "", "");
  return lines.join("\r\n");
}

export interface HttpResponse {
  status: number;
  /** Lowercase names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Uint8Array;
}

export type Parsed = { complete: false } | ({ complete: true } & HttpResponse);

const CRLFCRLF = [13, 10, 13, 10];

/**
 * Parses what has arrived so far. With `ended` (the peer closed), a response without a length
 * is complete; a truncated one throws.
 */
export function parseResponse(bytes: Uint8Array, ended: boolean): Parsed {
  const headEnd = indexOf(bytes, CRLFCRLF, 0);
  if (headEnd < 0) {
    if (ended) throw new Error("connection closed before the response headers");
    return { complete: false };
  }
  const head = new TextDecoder().decode(bytes.subarray(0, headEnd)).split("\r\n");
  const statusLine = head[0]?.match(/^HTTP\/1\.[01] (\d{3})/);
  if (!statusLine) throw new Error(`not an HTTP response: ${(head[0] ?? "").slice(0, 60)}`);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(statusLine[1]);
  const rest = bytes.subarray(headEnd + 4);
  if (/\bchunked\b/i.test(headers["transfer-encoding"] ?? "")) {
    const body = dechunk(rest);
    if (body) return { complete: true, status, headers, body };
    if (ended) throw new Error("connection closed in the middle of a chunked body");
    return { complete: false };
  }
  const length = headers["content-length"];
  if (length !== undefined) {
    const n = Number(length);
    if (rest.byteLength >= n) return { complete: true, status, headers, body: rest.subarray(0, n) };
    if (ended) throw new Error(`connection closed after ${rest.byteLength} of ${n} body bytes`);
    return { complete: false };
  }
  return ended ? { complete: true, status, headers, body: rest } : { complete: false };
}

/** The body of a complete chunked encoding, or null while chunks are still missing. */
function dechunk(bytes: Uint8Array): Uint8Array | null {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = indexOf(bytes, [13, 10], at);
    if (lineEnd < 0) return null;
    const size = Number.parseInt(new TextDecoder().decode(bytes.subarray(at, lineEnd)).split(";")[0] ?? "", 16);
    if (Number.isNaN(size)) throw new Error("bad chunk size");
    at = lineEnd + 2;
    if (size === 0) break;
    if (bytes.byteLength < at + size + 2) return null;
    parts.push(bytes.subarray(at, at + size));
    at += size + 2;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function indexOf(haystack: Uint8Array, needle: number[], from: number): number {
  outer: for (let i = from; i <= haystack.byteLength - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
