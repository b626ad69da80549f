/** tls: a TLS handshake to the target, the certificate verified and its expiry watched (keepalived: SSL_GET without the GET). */
import * as z from "zod";
import { HostName, intRange, Port } from "../../primitives.js";

export const TlsOptions = z.strictObject({
  /** SNI and the name the certificate must match; defaults to the target address. */
  serverName: HostName.optional(),
  verify: z.boolean().default(true),
  /** Report `degraded` when the certificate expires within this many days (0: never). */
  expiryWarnDays: intRange(0, 365).default(14),
});

export const TlsParams = z.strictObject({
  type: z.literal("tls"),
  connectPort: Port.optional(),
  ...TlsOptions.shape,
});
