/**
 * The API's one error type and its JSON form. Every failure leaves the Worker as
 * `{ error: { code, message, issues? } }` with the status ERROR_STATUS gives the code.
 */
import type { Context } from "hono";
import type * as z from "zod";
import { ERROR_STATUS, type ErrorCode, type FieldIssue, fieldIssue } from "../core/errors.js";

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: FieldIssue[] = [],
    /** Sent as Retry-After (seconds). */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }

  /** A 400 for field problems, its code and message taken from the first one. */
  static fromIssues(issues: FieldIssue[]): ApiError {
    const first = issues[0];
    if (!first) return new ApiError("invalid_field", "the request is invalid");
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    return new ApiError(first.code, `${first.field}: ${first.message}${more}`, issues);
  }
}

/**
 * Refuses a body whose name differs from the one in the URL: names are identities, so a
 * rename is a create and a delete.
 */
export function requireSameName(inUrl: string, inBody: string | undefined, path: (string | number)[] = ["name"]): void {
  if (inBody === undefined || inBody === inUrl) return;
  throw ApiError.fromIssues([
    fieldIssue(
      "invalid_field",
      path,
      `expected ${inUrl}, the name in the URL; to rename, create ${inBody} and delete ${inUrl}`,
    ),
  ]);
}

/** zod's issues as field issues; `prefix` places them inside a larger body. */
export function zodIssues(error: z.ZodError, prefix: (string | number)[] = []): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code === "unrecognized_keys") {
      const keys = issue.keys;
      return fieldIssue(
        "invalid_field",
        keys.length === 1 ? [...path, keys[0] as string] : path,
        `unknown field${keys.length > 1 ? `s ${keys.join(", ")}` : ""}`,
      );
    }
    return fieldIssue("invalid_field", path, issue.message);
  });
}

export function errorBody(err: ApiError) {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.issues.length > 0 ? { issues: err.issues } : {}),
    },
  };
}

export function sendError(c: Context, err: ApiError): Response {
  if (err.retryAfterS !== null) c.header("Retry-After", String(err.retryAfterS));
  return c.json(errorBody(err), err.status);
}
