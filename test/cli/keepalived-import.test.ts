/**
 * The keepalived importer on a corpus of keepalived.conf pairs (one file per director, with
 * includes and globs, comments, quotes, nested blocks): each gives its expected cluster
 * document and notes, and the document passes the API's own validation. Malformed files give
 * file:line:column.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { importKeepalived } from "../../cli/importers/keepalived.js";
import { ConfigSyntaxError, parseText } from "../../cli/importers/keepalived-syntax.js";
import { ClusterDocument, validateCluster } from "../../src/core/cluster.js";

const corpus = path.join(import.meta.dirname, "keepalived");
const cases = readdirSync(corpus).filter((d) => d !== "broken");

describe("keepalived import", () => {
  it.each(cases)("%s", (name) => {
    const dir = path.join(corpus, name);
    const { document, notes } = importKeepalived([path.join(dir, "lb1.conf"), path.join(dir, "lb2.conf")], {
      cluster: name,
    });
    expect(document).toEqual(JSON.parse(readFileSync(path.join(dir, "expected.json"), "utf8")));
    const listed = notes.map((n) => `${path.relative(dir, n.at.file)}:${n.at.line}: ${n.message}`);
    expect(listed).toEqual(readFileSync(path.join(dir, "notes.txt"), "utf8").trim().split("\n"));
    const parsed = ClusterDocument.safeParse(document);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    if (parsed.success) expect(validateCluster(parsed.data)).toEqual([]);
  });

  it.each([
    ["unclosed.conf", "unclosed.conf:1:20: this { is never closed"],
    ["stray.conf", "stray.conf:4:1: this } closes nothing"],
    ["quote.conf", "quote.conf:2:12: this quote is never closed"],
  ])("names file:line:column for %s", (file, message) => {
    const broken = path.join(corpus, "broken", file);
    expect(() => importKeepalived([broken])).toThrow(ConfigSyntaxError);
    expect(() => importKeepalived([broken])).toThrow(`${broken.replace(`${file}`, "")}${message}`);
  });

  it("leaves out a scheduler, method or protocol IPVS does not have, and says where", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vigil-ka-"));
    try {
      const file = path.join(dir, "lb1.conf");
      writeFileSync(
        file,
        [
          "virtual_server 10.0.0.10 80 {",
          "  lb_algo fastest",
          "  lb_kind BRIDGE",
          "  protocol SCTP",
          "  real_server 10.0.0.21 80 { weight 2 }",
          "}",
          "",
        ].join("\n"),
      );
      const { document, notes } = importKeepalived([file]);
      const [vs] = document.virtualServices ?? [];
      expect(vs).not.toHaveProperty("scheduler");
      expect(vs).not.toHaveProperty("forwarding");
      expect(vs).not.toHaveProperty("protocol");
      expect(notes.map((n) => `${n.at.line}: ${n.message}`)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^2: lb_algo fastest: not an IPVS scheduler \(rr, wrr, /),
          "3: lb_kind BRIDGE: expected NAT, DR, TUN; not carried over",
          "4: protocol SCTP: expected TCP or UDP; not carried over",
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads comments, quotes and blocks opened on the next line", () => {
    const stmts = parseText('a "b c" # comment\nd ! also a comment\n{\n  e\n}\n', "x.conf");
    expect(stmts).toEqual([
      { key: "a", args: ["b c"], at: { file: "x.conf", line: 1, col: 1 } },
      {
        key: "d",
        args: [],
        at: { file: "x.conf", line: 2, col: 1 },
        block: [{ key: "e", args: [], at: { file: "x.conf", line: 4, col: 3 } }],
      },
    ]);
  });
});
