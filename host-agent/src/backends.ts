/**
 * `backends.sync` on the agent: each driver gets the services that name it. A driver with no
 * service is not touched (no ipvsadm on a pure HAProxy director). The answer is what each
 * driver sent and the table it read back, or why it failed; one failing driver does not stop
 * the other.
 */
import type { DesiredService } from "../../src/core/backends.js";
import type { HaproxyDriver } from "./haproxy.js";
import type { IpvsDriver } from "./ipvs.js";

export class Backends {
  private ipvsUsed = false;

  constructor(
    private readonly ipvs: IpvsDriver,
    private readonly haproxy: HaproxyDriver,
  ) {}

  async sync(services: DesiredService[]): Promise<Record<string, unknown>> {
    const ipvs = services.filter((s) => s.driver.type === "ipvs");
    const haproxy = services.filter((s) => s.driver.type === "haproxy");
    const out: Record<string, unknown> = {};
    const errors: string[] = [];
    if (ipvs.length > 0 || this.ipvsUsed) {
      this.ipvsUsed = ipvs.length > 0;
      try {
        out.ipvs = await this.ipvs.sync(ipvs);
      } catch (err) {
        errors.push(`ipvs: ${(err as Error).message}`);
      }
    }
    if (haproxy.length > 0) {
      try {
        out.haproxy = await this.haproxy.sync(haproxy);
      } catch (err) {
        errors.push(`haproxy: ${(err as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(errors.join("; "));
    return out;
  }
}
