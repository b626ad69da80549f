/** Yields each value seen before, with the index of its later occurrence. */
export function* duplicates<T>(values: readonly T[]): Generator<[T, number]> {
  const seen = new Set<T>();
  for (const [i, v] of values.entries()) {
    if (seen.has(v)) yield [v, i];
    seen.add(v);
  }
}
