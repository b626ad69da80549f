/**
 * A real server in the qemu guest (test/ipvs/methods-guest.ts starts one per namespace):
 * `node rs-server.mjs NAME` answers HTTP on port 80 with "NAME LOCAL", LOCAL being the address
 * the connection reached (the VIP under direct routing and tunnelling, its own address under
 * NAT), each UDP datagram on port 53 with "NAME", and each line on a TCP connection to port
 * 7000 with "NAME LINE" (test/ipvs/stream-client.mjs), over IPv4 and IPv6.
 */
import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";
import { createInterface } from "node:readline";

const name = process.argv[2] ?? "?";
http
  .createServer((req, res) => res.end(`${name} ${req.socket.localAddress?.replace(/^::ffff:/, "")}`))
  .listen(80, "::");
for (const type of ["udp4", "udp6"]) {
  const socket = dgram.createSocket({ type, ipv6Only: type === "udp6" });
  socket.on("message", (_data, from) => socket.send(name, from.port, from.address));
  socket.bind(53);
}
net
  .createServer((socket) => {
    // readline passes the socket's errors on: a client's reset must not end the server.
    createInterface({ input: socket })
      .on("line", (line) => socket.write(`${name} ${line}\n`))
      .on("error", () => socket.destroy());
  })
  .listen(7000, "::");
