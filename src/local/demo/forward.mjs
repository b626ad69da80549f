#!/usr/bin/env node
/**
 * Runs inside a director's namespace in the demo's lab (netns.mjs): listens on 127.0.0.1:PORT
 * and hands each connection to the Unix socket SOCKET, which the demo joins to the control plane.
 */
import net from "node:net";
import { joinTo } from "./plumbing.mjs";

const [port, socket] = process.argv.slice(2);
net.createServer((inbound) => joinTo(inbound, net.connect(socket))).listen(Number(port), "127.0.0.1");
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
