/**
 * A client with one long-lived TCP connection (test/ipvs/failover-guest.ts runs it in the
 * guest's client namespace): `node stream-client.mjs ADDRESS PORT EVERY_MS` connects, sends a
 * numbered line every EVERY_MS, and prints one JSON line per event, each with the guest's wall
 * clock `t` in ms: `{"t","connected","port"}` (its own port), `{"t","echo","sent"}` (what the real server answered, and
 * when the line it answers was sent),
 * `{"t","error"}` (the socket's error code, e.g. ECONNRESET) and `{"t","closed"}`. It never
 * reconnects. It ends when its stdin closes.
 */
import net from "node:net";
import { createInterface } from "node:readline";

const [address, port, every] = process.argv.slice(2);
const say = (event) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...event })}\n`);
const socket = net.connect({ host: address, port: Number(port) }, () =>
  say({ connected: true, port: socket.localPort }),
);
let n = 0;
const sentAt = new Map();
const timer = setInterval(() => {
  if (!socket.writable) return;
  sentAt.set(++n, Date.now());
  socket.write(`${n}\n`);
}, Number(every));
// readline passes the socket's errors on (a reset, say), once.
createInterface({ input: socket })
  .on("line", (line) => say({ echo: line, sent: sentAt.get(Number(line.split(" ").at(-1))) ?? null }))
  .on("error", (err) => say({ error: err.code ?? err.message }));
socket.on("close", () => {
  clearInterval(timer);
  say({ closed: true });
});
process.stdin.on("end", () => {
  clearInterval(timer);
  socket.destroy();
  process.exit(0);
});
process.stdin.resume();
