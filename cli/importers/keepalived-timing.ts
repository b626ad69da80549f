/**
 * How often a keepalived check runs, how long it may take and how often it is retried, as a
 * Vigil check's schedule: keepalived's own defaults where the file says nothing (keepalived.conf(5)),
 * and each change Vigil's rules force said in words for the importer's notes.
 */

/** The check kinds whose defaults differ in keepalived. */
export type TimedKind = "vrrp_script" | "MISC_CHECK" | "HTTP_GET" | "SSL_GET" | "TCP_CHECK" | "SMTP_CHECK";

/** What a keepalived file may say, each possibly inherited from virtual_server or real_server. */
export interface GivenTiming {
  /** delay_loop, or a vrrp_script's interval. */
  interval?: number;
  /** connect_timeout, misc_timeout, or a vrrp_script's timeout. */
  timeout?: number;
  /** retry / nb_get_retry. */
  retries?: number;
  delayBeforeRetry?: number;
}

export interface Timing {
  interval: number;
  timeout: number;
  retries: number;
  delayBeforeRetry: number;
}

/** keepalived's defaults, by keepalived.conf(5). */
export function keepalivedDefaults(kind: TimedKind, interval?: number): Timing {
  if (kind === "vrrp_script") {
    // interval 1 s; with no timeout the script may run for the whole interval; no retries.
    const every = interval ?? 1;
    return { interval: every, timeout: every, retries: 0, delayBeforeRetry: 0 };
  }
  const delayLoop = interval ?? 60;
  if (kind === "MISC_CHECK") return { interval: delayLoop, timeout: delayLoop, retries: 0, delayBeforeRetry: 1 };
  const slowRetry = kind === "HTTP_GET" || kind === "SSL_GET";
  return { interval: delayLoop, timeout: 5, retries: 1, delayBeforeRetry: slowRetry ? 3 : 1 };
}

/** Vigil's bounds on a check's schedule (src/core/check.ts). */
const LIMITS = {
  interval: [1, 3600],
  timeout: [0.1, 60],
  retries: [0, 10],
  delayBeforeRetry: [0, 60],
} as const satisfies Record<keyof Timing, readonly [number, number]>;

/** How a value reads in a note: `timeout 60 s`, `retries 10`. */
const SAY: Record<keyof Timing, (n: number) => string> = {
  interval: (n) => `interval ${n} s`,
  timeout: (n) => `timeout ${n} s`,
  retries: (n) => `retries ${n}`,
  delayBeforeRetry: (n) => `delay before retry ${n} s`,
};

/**
 * The Vigil schedule for what keepalived would do, and every way it differs from that. The
 * timeout is kept; where Vigil needs a timeout shorter than the interval and keepalived's is
 * not, the interval grows to the next whole second above the timeout.
 */
export function vigilTiming(kind: TimedKind, given: GivenTiming): { timing: Timing; changes: string[] } {
  const defaults = keepalivedDefaults(kind, given.interval);
  const wanted: Timing = {
    interval: defaults.interval,
    timeout: given.timeout ?? defaults.timeout,
    retries: given.retries ?? defaults.retries,
    delayBeforeRetry: given.delayBeforeRetry ?? defaults.delayBeforeRetry,
  };
  const timing = { ...wanted };
  const changes: string[] = [];
  for (const key of Object.keys(LIMITS) as (keyof Timing)[]) {
    const [min, max] = LIMITS[key];
    const bounded = Math.min(max, Math.max(min, timing[key]));
    if (bounded !== timing[key]) {
      changes.push(`${SAY[key](bounded)} where keepalived has ${timing[key]} (Vigil allows ${min} to ${max})`);
      timing[key] = bounded;
    }
  }
  if (timing.timeout >= timing.interval) {
    const interval = Math.floor(timing.timeout) + 1;
    changes.push(
      `interval ${interval} s where keepalived has ${timing.interval} s: Vigil needs the timeout (${timing.timeout} s) to be shorter than the interval`,
    );
    timing.interval = interval;
  }
  return { timing, changes };
}
