/** `vigil import keepalived`: the document to stdout (or a file), the notes to stderr as file:line: why. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { importKeepalived } from "../import/keepalived.js";

export function importCommand(
  files: string[],
  options: { cluster?: string | undefined; addresses: Record<string, string>; out?: string | undefined },
  print: (line: string) => void,
): number {
  const { document, notes } = importKeepalived(files, {
    ...(options.cluster ? { cluster: options.cluster } : {}),
    addresses: options.addresses,
  });
  const json = `${JSON.stringify(document, null, 2)}\n`;
  if (options.out) writeFileSync(options.out, json);
  else process.stdout.write(json);
  for (const n of notes)
    console.error(`${path.relative(process.cwd(), n.at.file) || n.at.file}:${n.at.line}: ${n.message}`);
  if (options.out) print(`wrote ${options.out}; ${notes.length} note(s) above on what was not carried over`);
  return 0;
}
