/**
 * `node tcp-relay.mjs LISTEN_HOST PORT TO_HOST TO_PORT`: passes each TCP connection through to
 * TO_HOST:TO_PORT. In the qemu guest it lets the director namespaces reach the control plane,
 * which only the guest's root namespace can (qemu's forward to the host's loopback).
 */
import net from "node:net";

const [host, port, toHost, toPort] = process.argv.slice(2);
net
  .createServer((inbound) => {
    const outbound = net.connect({ host: toHost, port: Number(toPort) });
    inbound.pipe(outbound).pipe(inbound);
    inbound.on("error", () => outbound.destroy());
    outbound.on("error", () => inbound.destroy());
  })
  .listen(Number(port), host);
