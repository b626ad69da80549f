#!/usr/bin/env node
/** The lab's HTTP server: answers every request with its own name, so the client sees who served it. */
import { createServer } from "node:http";

const [name = "unnamed", port = "80"] = process.argv.slice(2);
const server = createServer((_req, res) => {
  res.setHeader("connection", "close");
  res.end(name);
});
server.listen(Number(port), "0.0.0.0");
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
