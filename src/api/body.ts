/** Reading request bodies: JSON only, bounded in size, validated against one zod schema. */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, zodIssues } from "./errors.js";

/** Large enough for a cluster of a thousand real servers; everything else is far smaller. */
export const MAX_BODY_BYTES = 1024 * 1024;

export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError("unsupported_media_type", `expected Content-Type: application/json, got ${type || "none"}`);
  }
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const bytes = await readBounded(c.req.raw);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("invalid_json", "the body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError("invalid_json", `the body is not valid JSON: ${(err as Error).message}`);
  }
}

export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: (string | number)[] = [],
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw ApiError.fromIssues(zodIssues(result.error, prefix));
  return result.data;
}

async function readBounded(request: Request): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function tooLarge(): ApiError {
  return new ApiError("payload_too_large", `the body is larger than ${MAX_BODY_BYTES} bytes`);
}
