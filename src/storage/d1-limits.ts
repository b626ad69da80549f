/**
 * D1 refuses a statement with more than 100 bound parameters ("too many SQL variables"). Every
 * statement that binds one parameter per item of a list splits the list with `listChunks`.
 */
import { chunks } from "../core/collections.js";

export const D1_MAX_BOUND_PARAMETERS = 100;

/** Slices of `values` small enough that each binds, with `others` parameters besides, under D1's limit. */
export function listChunks<T>(values: readonly T[], others = 0): T[][] {
  return chunks(values, D1_MAX_BOUND_PARAMETERS - others);
}
