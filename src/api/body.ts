/** Reading request bodies: JSON only, bounded in size, validated against one zod schema. */
import type { Context } from "hono";
import type * as z from "zod";
import { readAtMost } from "../core/bytes.js";
import { ApiError, zodIssues } from "./errors.js";

/** Large enough for a cluster of ten thousand real servers; everything else is far smaller. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError("unsupported_media_type", `expected Content-Type: application/json, got ${type || "none"}`);
  }
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const { bytes, truncated } = await readAtMost(c.req.raw.body, MAX_BODY_BYTES);
  if (truncated) throw tooLarge();
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

function tooLarge(): ApiError {
  return new ApiError("payload_too_large", `the body is larger than ${MAX_BODY_BYTES} bytes`);
}
