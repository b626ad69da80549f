/** The option shape `node:util` parseArgs reads: only whether an option takes a value matters here. */
export type OptionShapes = Readonly<Record<string, { readonly type: "string" | "boolean"; readonly short?: string }>>;

/**
 * Binds each option that takes a value to the word after it, as getopt does: `--release-key -x…`
 * becomes `--release-key=-x…`. parseArgs, in strict mode, refuses a value that starts with a dash
 * as ambiguous, and a base64url key or token starts with one one time in 64. Words after `--`,
 * options that already carry `=value`, and an option with nothing after it are left as they are,
 * so parseArgs still names what is missing.
 */
export function bindOptionValues(args: readonly string[], options: OptionShapes): string[] {
  const takesValue = new Set<string>();
  for (const [name, shape] of Object.entries(options)) {
    if (shape.type !== "string") continue;
    takesValue.add(`--${name}`);
    if (shape.short) takesValue.add(`-${shape.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (word === "--") return out.concat(args.slice(i));
    const next = args[i + 1];
    if (takesValue.has(word) && next !== undefined) {
      out.push(word.startsWith("--") ? `${word}=${next}` : `${word}${next}`);
      i++;
    } else out.push(word);
  }
  return out;
}
