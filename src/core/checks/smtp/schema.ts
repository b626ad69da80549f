/** smtp: banner, EHLO and QUIT answered with the expected codes (keepalived: SMTP_CHECK). */
import * as z from "zod";
import { HostName, Port } from "../../primitives.js";

export const SmtpParams = z.strictObject({
  type: z.literal("smtp"),
  connectPort: Port.optional(),
  helo: HostName.default("vigil.invalid"),
});
