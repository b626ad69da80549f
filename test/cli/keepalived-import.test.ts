/**
 * The keepalived importer on a corpus of keepalived.conf pairs (one file per director, with
 * includes and globs, comments, quotes, nested blocks): each gives its expected cluster
 * document and notes, and the document passes the API's own validation. Malformed files give
 * file:line:column.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { directorNames, importKeepalived } from "../../cli/importers/keepalived.js";
import { ImportRefused } from "../../cli/importers/keepalived-notes.js";
import { ConfigSyntaxError, parseText } from "../../cli/importers/keepalived-syntax.js";
import { type GivenTiming, type TimedKind, type Timing, vigilTiming } from "../../cli/importers/keepalived-timing.js";
import { ClusterDocument, validateCluster } from "../../src/core/cluster.js";
import { caseFiles, cases, corpus, importLines } from "./keepalived-corpus.js";

describe("keepalived import", () => {
  it.each(cases)("%s", (name) => {
    const { dir, files } = caseFiles(name);
    const { document, notes, email } = importKeepalived(files, { cluster: name });
    expect(document).toEqual(JSON.parse(readFileSync(path.join(dir, "expected.json"), "utf8")));
    // keepalived's mail settings, where the case has them, as an email subscription.
    const mailFile = path.join(dir, "expected-email.json");
    expect(email).toEqual(existsSync(mailFile) ? JSON.parse(readFileSync(mailFile, "utf8")) : undefined);
    // Paths relative to the case, in the note's place and in its text (the other director's file).
    const listed = notes.map(
      (n) => `${path.relative(dir, n.at.file)}:${n.at.line}: ${n.message.replaceAll(`${dir}/`, "")}`,
    );
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
    const { document, notes } = importLines([
      "virtual_server 10.0.0.10 80 {",
      "  lb_algo fastest",
      "  lb_kind BRIDGE",
      "  protocol SCTP",
      "  real_server 10.0.0.21 80 { weight 2 }",
      "}",
      "",
    ]);
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
  });

  it("takes an lvs_sync_daemon id of 0 to 255 only, and names the instance it cannot find", () => {
    const { document, notes } = importLines([
      "global_defs {",
      "  lvs_sync_daemon eth1 VI_1 id 300",
      "  lvs_sync_daemon eth1 VI_9",
      "}",
      "vrrp_instance VI_1 {",
      "  interface eth0",
      "  virtual_router_id 51",
      "  virtual_ipaddress { 10.0.0.100/24 }",
      "}",
      "",
    ]);
    expect(document.vipGroups?.[0]?.lvsSync).toEqual({ interface: "eth1", syncId: 51 });
    expect(notes.map((n) => `${n.at.line}: ${n.message}`)).toEqual(
      expect.arrayContaining([
        "2: lvs_sync_daemon id 300: expected 0 to 255; the vrrp_instance's virtual_router_id is used",
        "3: lvs_sync_daemon: no vrrp_instance VI_9 in any file; not carried over",
      ]),
    );
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

describe("merging directors", () => {
  it("refuses directors whose instance or VIP sits on another interface, naming both lines", () => {
    const a = path.join(corpus, "broken", "clash-lb1.conf");
    const b = path.join(corpus, "broken", "clash-lb2.conf");
    let refused: unknown;
    try {
      importKeepalived([a, b]);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ImportRefused);
    expect((refused as ImportRefused).message.split("\n")).toEqual([
      `${b}:3: vrrp_instance VI_1 interface is ens3 here but eth0 at ${a}:3: Vigil puts a group's VIPs on one interface name on every member; rename the interface on one director`,
      `${b}:6: VIP 10.0.0.10/24 of VI_1 dev is ens3 here but eth0 at ${a}:6: Vigil puts a VIP on one interface name on every member; rename the interface on one director`,
    ]);
    // Either file alone, or twice, imports.
    expect(importKeepalived([a, a]).document.nodes?.map((n) => n.name)).toEqual(["clash-lb1", "clash-lb1-2"]);
  });

  it("says a file that cannot be read by its name", () => {
    expect(() => importKeepalived(["no/such/lb1.conf"])).toThrow(
      new Error("cannot read no/such/lb1.conf: no such file"),
    );
  });

  it.each<[string, { file: string; routerId?: string }[], string[]]>([
    [
      "unique router_ids",
      [
        { file: "a.conf", routerId: "lb1" },
        { file: "b.conf", routerId: "lb2" },
      ],
      ["lb1", "lb2"],
    ],
    [
      "the stock router_id twice",
      [
        { file: "lb1.conf", routerId: "LVS_DEVEL" },
        { file: "lb2.conf", routerId: "LVS_DEVEL" },
      ],
      ["lb1", "lb2"],
    ],
    ["no router_id", [{ file: "/etc/keepalived/keepalived-edge1.conf" }, { file: "edge2.conf" }], ["edge1", "edge2"]],
    [
      "keepalived.conf in a directory per director",
      [{ file: "lb1/keepalived.conf" }, { file: "lb2/keepalived.conf" }],
      ["lb1", "lb2"],
    ],
    ["the same file name twice", [{ file: "a/lb.conf" }, { file: "b/lb.conf" }], ["lb", "lb-2"]],
    [
      "a router_id that is another's file name",
      [{ file: "x.conf", routerId: "lb2" }, { file: "lb2.conf" }],
      ["lb2", "lb2-2"],
    ],
  ])("names directors: %s", (_name, directors, names) => {
    expect(directorNames(directors)).toEqual(names);
  });
});

describe("keepalived's timing as a Vigil check", () => {
  it.each<[string, TimedKind, GivenTiming, Timing, string[]]>([
    [
      "a TCP_CHECK with nothing written",
      "TCP_CHECK",
      {},
      { interval: 60, timeout: 5, retries: 1, delayBeforeRetry: 1 },
      [],
    ],
    [
      "an HTTP_GET retries 3 s apart",
      "HTTP_GET",
      { interval: 10 },
      { interval: 10, timeout: 5, retries: 1, delayBeforeRetry: 3 },
      [],
    ],
    [
      "an SSL_GET likewise",
      "SSL_GET",
      { interval: 10 },
      { interval: 10, timeout: 5, retries: 1, delayBeforeRetry: 3 },
      [],
    ],
    [
      "a MISC_CHECK without retries, timed by its poll",
      "MISC_CHECK",
      { interval: 10, timeout: 3 },
      { interval: 10, timeout: 3, retries: 0, delayBeforeRetry: 1 },
      [],
    ],
    [
      "a connect_timeout as long as delay_loop",
      "TCP_CHECK",
      { interval: 6, timeout: 6 },
      { interval: 7, timeout: 6, retries: 1, delayBeforeRetry: 1 },
      ["interval 7 s where keepalived has 6 s: Vigil needs the timeout (6 s) to be shorter than the interval"],
    ],
    [
      "a vrrp_script without timeout",
      "vrrp_script",
      { interval: 2 },
      { interval: 3, timeout: 2, retries: 0, delayBeforeRetry: 0 },
      ["interval 3 s where keepalived has 2 s: Vigil needs the timeout (2 s) to be shorter than the interval"],
    ],
    [
      "a vrrp_script with its own timeout",
      "vrrp_script",
      { interval: 5, timeout: 2 },
      { interval: 5, timeout: 2, retries: 0, delayBeforeRetry: 0 },
      [],
    ],
    [
      "values beyond Vigil's bounds",
      "HTTP_GET",
      { interval: 0.5, timeout: 90, retries: 20, delayBeforeRetry: 120 },
      { interval: 61, timeout: 60, retries: 10, delayBeforeRetry: 60 },
      [
        "interval 1 s where keepalived has 0.5 (Vigil allows 1 to 3600)",
        "timeout 60 s where keepalived has 90 (Vigil allows 0.1 to 60)",
        "retries 10 where keepalived has 20 (Vigil allows 0 to 10)",
        "delay before retry 60 s where keepalived has 120 (Vigil allows 0 to 60)",
        "interval 61 s where keepalived has 1 s: Vigil needs the timeout (60 s) to be shorter than the interval",
      ],
    ],
  ])("%s", (_name, kind, given, timing, changes) => {
    expect(vigilTiming(kind, given)).toEqual({ timing, changes });
  });
});
