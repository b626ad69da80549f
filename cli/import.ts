/**
 * `vigil import keepalived | haproxy`: the document to stdout (or a file), the notes to stderr
 * as file:line: why; keepalived's mail alerts to an email subscription file beside it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { ClusterDocument, type ClusterDocumentInput } from "../src/core/cluster.js";
import { formatPath } from "../src/core/errors.js";
import { ApiError } from "./client.js";
import { importHaproxy } from "./importers/haproxy.js";
import { importKeepalived } from "./importers/keepalived.js";
import type { Note } from "./importers/keepalived-notes.js";

type Print = (line: string) => void;

export function importCommand(
  files: string[],
  options: {
    cluster?: string | undefined;
    addresses: Record<string, string>;
    out?: string | undefined;
    emailOut?: string | undefined;
  },
  print: Print,
): number {
  const { document, notes, email } = importKeepalived(files, {
    ...(options.cluster ? { cluster: options.cluster } : {}),
    addresses: options.addresses,
  });
  const code = emit(document, notes, options.out, print);
  if (email) {
    // Beside the document: lb.json gets lb.email.json.
    const file = options.emailOut ?? (options.out ? options.out.replace(/(\.json)?$/, ".email.json") : undefined);
    if (file) {
      writeFileSync(file, `${JSON.stringify(email, null, 2)}\n`);
      print(
        `wrote ${file}: keepalived's mail alerts as email subscription ${email.name}; vigil alerts apply -f ${file}`,
      );
    } else
      console.error(
        `keepalived's mail alerts make email subscription ${email.name}: give -o OUT or --email-out FILE to write it`,
      );
  }
  return code;
}

export function importHaproxyCommand(file: string, into: string, out: string | undefined, print: Print): number {
  let base: ClusterDocumentInput;
  try {
    base = JSON.parse(readFileSync(into, "utf8"));
  } catch (err) {
    throw new ApiError(`${into}: not a cluster document (${(err as Error).message})`);
  }
  // The document the services join must be one: refused with the first field that is not.
  const checked = ClusterDocument.safeParse(base);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new ApiError(`${into}: not a cluster document: ${formatPath(issue?.path ?? [])}: ${issue?.message}`);
  }
  const { document, notes } = importHaproxy(file, base);
  return emit(document, notes, out, print);
}

function emit(document: unknown, notes: Note[], out: string | undefined, print: Print): number {
  const json = `${JSON.stringify(document, null, 2)}\n`;
  if (out) writeFileSync(out, json);
  else process.stdout.write(json);
  // Files as given on the command line (an include, relative to the file that names it).
  for (const n of notes) console.error(`${n.at.file}:${n.at.line}: ${n.message}`);
  if (out) print(`wrote ${out}; ${notes.length} note(s) above on what was not carried over`);
  return 0;
}
