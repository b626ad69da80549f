#!/usr/bin/env node
/**
 * `npm start`: the control plane on this machine, empty (src/local/control-plane.mjs), on
 * 127.0.0.1:8787 (VIGIL_HOST, VIGIL_PORT), until Ctrl-C. It prints how to use it.
 */
import { StartError, startControlPlane } from "./control-plane.mjs";

try {
  const { url, token, child } = await startControlPlane({
    host: process.env.VIGIL_HOST ?? "127.0.0.1",
    port: Number(process.env.VIGIL_PORT ?? 8787),
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  console.log(`
Vigil control plane is running.
  API:          ${url}/v1
  Dashboard:    ${url}/ui (sign in with the admin token)
  OpenAPI:      ${url}/v1/openapi.json
  Admin token:  ${token}
  Try:          curl -H "Authorization: Bearer ${token}" ${url}/v1/clusters
`);
} catch (err) {
  console.error(`vigil: ${err instanceof StartError ? err.message : err}`);
  process.exit(1);
}
