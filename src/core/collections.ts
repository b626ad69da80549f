/** Yields each value seen before, with the index of its later occurrence. */
export function* duplicates<T>(values: readonly T[]): Generator<[T, number]> {
  const seen = new Set<T>();
  for (const [i, v] of values.entries()) {
    if (seen.has(v)) yield [v, i];
    seen.add(v);
  }
}

/** `values` in slices of at most `size` (the last may be shorter); none for an empty list. */
export function chunks<T>(values: readonly T[], size: number): T[][] {
  if (size < 1) throw new RangeError(`chunk size ${size}: expected at least 1`);
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
