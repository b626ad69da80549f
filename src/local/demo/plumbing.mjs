/**
 * The demo's small pieces of plumbing, used by its servers, its namespace lab and its stop:
 * listening on a free loopback port, finding a free UDP port, closing a server, joining two
 * sockets, ending a child.
 */
import { createSocket } from "node:dgram";

/** Listens on a free port of 127.0.0.1 (or on a Unix socket path); answers the port (or the path). */
export function listen(server, socketPath = null) {
  return new Promise((resolve) => {
    if (socketPath !== null) server.listen(socketPath, () => resolve(socketPath));
    else server.listen(0, "127.0.0.1", () => resolve(server.address().port));
  });
}

/**
 * A UDP port no one is bound to now, for an agent's peer messages: two demos (or a demo and a
 * test) on one host must not both give their agents the same port.
 */
export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Closes a server and the connections it still holds. */
export function close(server) {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Pipes two sockets into each other until either ends. */
export function joinTo(a, b) {
  a.pipe(b).pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", end);
  b.on("error", end);
}

/** Sends `signal` to a child this process started, SIGKILL after `graceMs`, and waits for its exit. */
export async function endChild(child, signal = "SIGTERM", graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await ended;
  clearTimeout(timer);
}
