/**
 * A real server in the qemu guest (test/ipvs/methods-guest.ts starts one per namespace):
 * `node rs-server.mjs NAME` answers HTTP on port 80 with "NAME LOCAL", LOCAL being the address
 * the connection reached (the VIP under direct routing and tunnelling, its own address under
 * NAT), and each UDP datagram on port 53 with "NAME", over IPv4 and IPv6.
 */
import dgram from "node:dgram";
import http from "node:http";

const name = process.argv[2] ?? "?";
http
  .createServer((req, res) => res.end(`${name} ${req.socket.localAddress?.replace(/^::ffff:/, "")}`))
  .listen(80, "::");
for (const type of ["udp4", "udp6"]) {
  const socket = dgram.createSocket({ type, ipv6Only: type === "udp6" });
  socket.on("message", (_data, from) => socket.send(name, from.port, from.address));
  socket.bind(53);
}
