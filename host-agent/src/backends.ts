/**
 * `backends.sync` and `backends.status` on the agent: each driver gets the services that name
 * it. A driver with no service is not touched (no ipvsadm on a pure HAProxy director). A sync
 * answers what each driver sent and the table it read back; one failing driver does not stop
 * the other, and the failure still carries what the other did. A status read answers the live
 * tables of the services last synced, with connection counts.
 */
import type { ActualService, BackendsStatus } from "../../src/core/backend-status.js";
import type { DesiredService } from "../../src/core/backends.js";
import type { HaproxyDriver } from "./haproxy.js";
import { PartialFailure } from "./inbox.js";
import type { IpvsDriver } from "./ipvs.js";

type Driver = "ipvs" | "haproxy";

export class Backends {
  private ipvsUsed = false;
  private services: DesiredService[] = [];

  constructor(
    private readonly ipvs: IpvsDriver,
    private readonly haproxy: HaproxyDriver,
  ) {}

  private of(driver: Driver, services = this.services): DesiredService[] {
    return services.filter((s) => s.driver.type === driver);
  }

  async sync(services: DesiredService[]): Promise<Record<string, unknown>> {
    this.services = services;
    const out: Record<string, unknown> = {};
    const errors: string[] = [];
    const ipvs = this.of("ipvs");
    const runs: [Driver, boolean, () => Promise<unknown>][] = [
      ["ipvs", ipvs.length > 0 || this.ipvsUsed, () => this.ipvs.sync(ipvs)],
      ["haproxy", this.of("haproxy").length > 0, () => this.haproxy.sync(this.of("haproxy"))],
    ];
    this.ipvsUsed = ipvs.length > 0;
    for (const [driver, needed, run] of runs) {
      if (!needed) continue;
      try {
        out[driver] = await run();
      } catch (err) {
        errors.push(`${driver}: ${(err as Error).message}`);
      }
    }
    if (errors.length > 0) throw new PartialFailure(errors.join("; "), out);
    return out;
  }

  async status(): Promise<BackendsStatus> {
    const services: ActualService[] = [];
    const errors: Record<string, string> = {};
    const reads: [Driver, (s: DesiredService[]) => Promise<ActualService[]>][] = [
      ["ipvs", (s) => this.ipvs.status(s)],
      ["haproxy", (s) => this.haproxy.status(s)],
    ];
    for (const [driver, read] of reads) {
      const mine = this.of(driver);
      if (mine.length === 0) continue;
      try {
        services.push(...(await read(mine)));
      } catch (err) {
        errors[driver] = (err as Error).message;
      }
    }
    // On a director with IPVS services that ipvsadm could read: its connection sync daemons too.
    if (this.of("ipvs").length === 0 || errors.ipvs !== undefined) return { services, errors };
    try {
      return { services, errors, sync: await this.ipvs.syncDaemons() };
    } catch (err) {
      return { services, errors: { ...errors, sync: (err as Error).message } };
    }
  }
}
