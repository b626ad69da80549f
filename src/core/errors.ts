/**
 * The one closed set of API error codes, with the HTTP status each maps to.
 * Clients branch on `code`; the message is for people and may change.
 */
export const ERROR_STATUS = {
  invalid_json: 400,
  invalid_field: 400,
  unknown_reference: 400,
  duplicate_name: 400,
  /** One VIP address in two VIP groups: two leases, so two directors could hold it. */
  duplicate_vip: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  already_exists: 409,
  in_use: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** Too many failed authentications from one client address; Retry-After says when to try again. */
  too_many_requests: 429,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** One problem with one field of a request; `path` locates it in the request body. */
export interface FieldIssue {
  code: "invalid_field" | "unknown_reference" | "duplicate_name" | "duplicate_vip";
  path: (string | number)[];
  field: string;
  message: string;
}

/** Renders a path as operators read it: `vipGroups[0].vips[1].cidr`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(body)" : out;
}

export function fieldIssue(code: FieldIssue["code"], path: (string | number)[], message: string): FieldIssue {
  return { code, path, field: formatPath(path), message };
}
