/**
 * Every corpus case, imported, against what keepalived itself would run: each check's timing
 * and each VIP group's tracking, worked out here from the files and keepalived's documented
 * defaults (keepalived.conf(5), keepalived 2.2), field by field. Where Vigil's own rule (a
 * timeout shorter than the interval) forces a change, the import must say so at that line.
 */
import { describe, expect, it } from "vitest";
import { importKeepalived } from "../../cli/importers/keepalived.js";
import { parseFile, type Stmt } from "../../cli/importers/keepalived-syntax.js";
import { caseFiles, cases } from "./keepalived-corpus.js";

/** keepalived.conf(5): what holds when a file says nothing. */
const KEEPALIVED = {
  /** "delay timer for checker polling (60 seconds if not specified)" */
  delayLoop: 60,
  /** "Optional connection timeout in seconds. The default is 5 seconds" */
  connectTimeout: 5,
  /** "Retry count ... Default: 1 unless specified below"; MISC_CHECK: "The retry default is 0." */
  retry: (checker: string) => (checker === "MISC_CHECK" ? 0 : 1),
  /** "Defaults to ... 3 seconds for HTTP_GET and SSL_GET, and 1 second otherwise." */
  delayBeforeRetry: (checker: string) => (checker === "HTTP_GET" || checker === "SSL_GET" ? 3 : 1),
  /** A MISC_CHECK's script without misc_timeout may run until the next poll. */
  miscTimeout: (delayLoop: number) => delayLoop,
  /** vrrp_script: "seconds between script invocations, (default: 1 second)"; weight "(default: 0)". */
  script: { interval: 1, weight: 0 },
};

const CHECKERS = ["TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "MISC_CHECK"];

const word = (block: Stmt[] | undefined, ...keys: string[]) => {
  const s = block?.find((x) => keys.includes(x.key));
  return s?.args[0] === undefined ? undefined : Number(s.args[0]);
};

/** What keepalived runs for one checker, inheriting from its real_server and virtual_server. */
function keepalivedChecker(vs: Stmt, rs: Stmt, c: Stmt) {
  const levels = [c.block, rs.block, vs.block];
  const first = (...keys: string[]) => levels.map((l) => word(l, ...keys)).find((v) => v !== undefined);
  const interval = first("delay_loop") ?? KEEPALIVED.delayLoop;
  const timeout =
    c.key === "MISC_CHECK"
      ? (word(c.block, "misc_timeout") ?? KEEPALIVED.miscTimeout(interval))
      : (first("connect_timeout") ?? KEEPALIVED.connectTimeout);
  return {
    interval,
    timeout,
    retries: first("retry", "nb_get_retry") ?? KEEPALIVED.retry(c.key),
    delayBeforeRetry: first("delay_before_retry") ?? KEEPALIVED.delayBeforeRetry(c.key),
  };
}

describe("imported timing and tracking, against keepalived's defaults", () => {
  it.each(cases)("%s", (name) => {
    const { files } = caseFiles(name);
    const { document, notes } = importKeepalived(files, { cluster: name });
    const checks = new Map((document.checks ?? []).map((c) => [c.name, c]));
    const noted = (at: Stmt["at"], text: string) =>
      notes.some((n) => n.at.file === at.file && n.at.line === at.line && n.message.includes(text));
    /** keepalived's timing, as Vigil must have it: the same, or the interval raised and said. */
    const compare = (
      imported: unknown,
      want: { interval: number; timeout: number; retries: number; delayBeforeRetry: number },
      at: Stmt["at"],
    ) => {
      const raised = want.timeout >= want.interval;
      expect(imported).toMatchObject({
        ...want,
        interval: raised ? Math.floor(want.timeout) + 1 : want.interval,
      });
      expect(noted(at, `where keepalived has ${want.interval} s`)).toBe(raised);
    };
    // Only the first director's files: the second's settings are compared by the merge.
    const stmts = parseFile(files[0] as string);
    let compared = 0;
    for (const vs of stmts.filter((s) => s.key === "virtual_server")) {
      const service = document.virtualServices?.find((v) =>
        vs.args[0] === "fwmark"
          ? v.fwmark === Number(vs.args[1])
          : v.address === vs.args[0] && v.port === Number(vs.args[1]),
      );
      for (const rs of vs.block?.filter((s) => s.key === "real_server") ?? []) {
        const server = service?.realServers?.find((r) => r.address === rs.args[0]);
        // Each checker in order, as the server's check or its list of checks.
        const imported = server?.checks ?? (server?.check ? [server.check] : []);
        const checkers = rs.block?.filter((s) => CHECKERS.includes(s.key)) ?? [];
        expect(imported).toHaveLength(checkers.length);
        for (const [k, checker] of checkers.entries()) {
          compare(checks.get(imported[k] ?? ""), keepalivedChecker(vs, rs, checker), checker.at);
          compared += 1;
        }
      }
    }
    const scripts = new Map(stmts.filter((s) => s.key === "vrrp_script").map((s) => [s.args[0] ?? "", s]));
    for (const [script, s] of scripts) {
      const interval = word(s.block, "interval") ?? KEEPALIVED.script.interval;
      const want = { interval, timeout: word(s.block, "timeout") ?? interval, retries: 0, delayBeforeRetry: 0 };
      compare(checks.get(script), want, s.at);
      compared += 1;
    }
    const syncs = stmts.filter((s) => s.key === "vrrp_sync_group");
    for (const instance of stmts.filter((s) => s.key === "vrrp_instance")) {
      const group = document.vipGroups?.find((g) => g.name === instance.args[0]);
      const sync = syncs.find((g) =>
        g.block?.find((x) => x.key === "group")?.block?.some((m) => m.key === instance.args[0]),
      );
      const weightsCount = !sync || sync.block?.some((x) => x.key === "sync_group_tracking_weight");
      const tracked = instance.block?.find((x) => x.key === "track_script")?.block ?? [];
      expect(group?.track ?? []).toEqual(
        tracked.map((t) => {
          const own = t.args.indexOf("weight");
          const weight =
            own >= 0
              ? Number(t.args[own + 1])
              : (word(scripts.get(t.key)?.block, "weight") ?? KEEPALIVED.script.weight);
          return { check: t.key, weight: weightsCount ? weight : 0 };
        }),
      );
      const primary = instance.block?.find((x) => x.key === "interface")?.args[0];
      const tracksPrimary = !instance.block?.some((x) => x.key === "dont_track_primary");
      const listed = (instance.block?.find((x) => x.key === "track_interface")?.block ?? []).map((t) => {
        const own = t.args.indexOf("weight");
        return { interface: t.key, weight: own >= 0 ? Number(t.args[own + 1]) : 0 };
      });
      const primaryListed = listed.some((t) => t.interface === primary);
      expect(group?.trackInterfaces ?? []).toEqual([
        ...listed,
        ...(tracksPrimary && !primaryListed ? [{ interface: primary, weight: 0 }] : []),
      ]);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(0);
  });
});
