/** tcp: the port accepts a connection, and optionally answers a banner exchange (keepalived: TCP_CHECK). */
import * as z from "zod";
import { Port } from "../../primitives.js";

export const TcpParams = z.strictObject({
  type: z.literal("tcp"),
  connectPort: Port.optional(),
  /** Optional banner exchange: send this, expect a reply that starts with `expect`. */
  send: z.string().max(1024).optional(),
  expect: z.string().max(1024).optional(),
});
