/**
 * The failover scenarios, written once for the lab tests and for bench/failover (which runs
 * them against keepalived too). Each starts with lb1 holding the VIP and lb2 standing by;
 * `inject` breaks something, `expect` is who should hold the VIP afterwards, `restore` puts
 * the lab back. `ctx` is the system under test: stopDaemon(node, signal), startDaemon(node),
 * stopServer(node), startServer(node), lab, and restartCoordinator() where there is one.
 */
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
    restore: (ctx) => ctx.lab.heal(),
  },
  {
    name: "lb1-lb2 link cut",
    inject: (ctx) => ctx.lab.partition("lb1", "lb2"),
    expect: "lb1",
    restore: (ctx) => ctx.lab.heal(),
  },
  {
    name: "holder cut from coordinator",
    coordinator: true,
    inject: (ctx) => ctx.lab.partition("lb1", "cp"),
    expect: "lb2",
    restore: (ctx) => ctx.lab.heal(),
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
];
