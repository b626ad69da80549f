/**
 * The failover scenarios, written once for the lab tests and for bench/failover (which runs
 * them against keepalived too). Each starts with lb1 holding the VIP and the others standing
 * by; `inject` breaks something, `expect` is who should hold the VIP afterwards (a node, any
 * of several, or "nobody"), `holdMs` how long the fault lasts before `restore` puts the lab
 * back. `ctx` is the system under test: stopDaemon(node, signal), startDaemon(node),
 * stopServer(node), startServer(node), lab, directors, and restartCoordinator() where there is
 * one. `coordinator: true` scenarios exist only where there is a coordinator (not keepalived);
 * `directors: 3` ones run in a lab with lb3.
 */

/** Cuts the control plane off from every director (the API, reached inside cp, still answers). */
const cutCoordinator = (ctx) => {
  for (const d of ctx.directors) ctx.lab.partition(d, "cp");
};
const heal = (ctx) => ctx.lab.heal();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Long enough for both directors' agents to notice the coordinator is gone (one lease TTL and more). */
const NOTICE_MS = 2000;

export const SCENARIOS = [
  {
    name: "graceful stop",
    inject: (ctx) => ctx.stopDaemon("lb1", "SIGTERM"),
    expect: "lb2",
    restore: (ctx) => ctx.startDaemon("lb1"),
  },
  {
    name: "daemon SIGKILL",
    inject: (ctx) => ctx.stopDaemon("lb1", "SIGKILL"),
    expect: "lb2",
    restore: (ctx) => ctx.startDaemon("lb1"),
  },
  {
    name: "director isolated",
    inject: (ctx) => ctx.lab.isolate("lb1"),
    expect: "lb2",
    restore: heal,
  },
  {
    name: "lb1-lb2 link cut",
    inject: (ctx) => ctx.lab.partition("lb1", "lb2"),
    expect: "lb1",
    restore: heal,
  },
  {
    name: "tracked service stopped",
    inject: (ctx) => ctx.stopServer("lb1"),
    expect: "lb2",
    restore: (ctx) => ctx.startServer("lb1"),
  },
  {
    name: "coordinator restarted",
    coordinator: true,
    inject: (ctx) => ctx.restartCoordinator(),
    expect: "lb1",
    restore: async () => {},
  },
  {
    name: "holder cut from coordinator",
    coordinator: true,
    inject: (ctx) => ctx.lab.partition("lb1", "cp"),
    expect: "lb1",
    restore: heal,
  },
  {
    name: "coordinator unreachable 60 s",
    coordinator: true,
    inject: cutCoordinator,
    expect: "lb1",
    holdMs: 60_000,
    restore: heal,
  },
  {
    name: "no coordinator, service stops",
    coordinator: true,
    inject: async (ctx) => {
      cutCoordinator(ctx);
      await sleep(NOTICE_MS);
      await ctx.stopServer("lb1");
    },
    // Measured from the service's stop, not from the cut.
    injectedAfterMs: NOTICE_MS,
    expect: "lb2",
    restore: async (ctx) => {
      await ctx.startServer("lb1");
      heal(ctx);
    },
  },
  {
    name: "no coordinator, holder killed",
    coordinator: true,
    inject: async (ctx) => {
      cutCoordinator(ctx);
      await sleep(NOTICE_MS);
      await ctx.stopDaemon("lb1", "SIGKILL");
    },
    injectedAfterMs: NOTICE_MS,
    // The price of safety with two directors: lb2 alone is one vote of three.
    expect: "nobody",
    holdMs: 5000,
    restore: async (ctx) => {
      heal(ctx);
      await ctx.startDaemon("lb1");
    },
  },
  {
    name: "3 directors, no coordinator, holder killed",
    coordinator: true,
    directors: 3,
    inject: async (ctx) => {
      cutCoordinator(ctx);
      await sleep(NOTICE_MS);
      await ctx.stopDaemon("lb1", "SIGKILL");
    },
    injectedAfterMs: NOTICE_MS,
    expect: ["lb2", "lb3"],
    restore: async (ctx) => {
      heal(ctx);
      await ctx.startDaemon("lb1");
    },
  },
];

/** Whether the VIP's holders match what a scenario expects. */
export function asExpected(expected, holders) {
  if (expected === "nobody") return holders.length === 0;
  const allowed = Array.isArray(expected) ? expected : [expected];
  return holders.length === 1 && allowed.includes(holders[0]);
}
