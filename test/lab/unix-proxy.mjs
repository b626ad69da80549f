#!/usr/bin/env node
/**
 * Runs inside the control plane's namespace and forwards a Unix socket to HOST:PORT there, so
 * the test process can call the API without any route between the host and the lab.
 */
import { rmSync } from "node:fs";
import net from "node:net";
import { joinTo } from "../../src/local/demo/plumbing.mjs";

const [socketPath, host, port] = process.argv.slice(2);
rmSync(socketPath, { force: true });
net
  .createServer((inbound) => {
    joinTo(inbound, net.connect({ host, port: Number(port) }));
  })
  .listen(socketPath);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
