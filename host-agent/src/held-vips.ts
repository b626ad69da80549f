/**
 * What holding a lease unit does to the host: its VIPs added (with their labels), the
 * gratuitous ARP burst in the background (renewals must not wait for it) and one more every
 * `garp.refresh` seconds while held, a changed VIP list applied without letting go, and the
 * VIPs removed when the unit is given up.
 */
import type { LeaseUnitSpec } from "../../src/core/command.js";
import type { Vip } from "../../src/core/vip-group.js";
import type { Runner } from "./runner.js";
import { announce, ensureVip } from "./vip.js";

export class HeldVips {
  private refresh: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly runner: Runner,
    private readonly log: (line: string) => void,
  ) {}

  /** Adds the unit's VIPs and announces them; `holding` stops the announcements once it is false. */
  async add(spec: LeaseUnitSpec, holding: () => boolean): Promise<void> {
    for (const vip of spec.vips) await ensureVip(this.runner, vip, true);
    const { refresh } = spec.garp;
    for (const vip of spec.vips) this.burst(spec, vip, holding);
    if (refresh > 0 && this.refresh === null) {
      this.refresh = setInterval(() => {
        if (holding())
          for (const vip of spec.vips) void announce(this.runner, vip, 1, 0, undefined, holding).catch(() => undefined);
      }, refresh * 1000);
    }
  }

  /** The unit's VIPs changed while held: the new ones added and announced, the old ones removed. */
  async reconcile(spec: LeaseUnitSpec, dropped: Vip[], holding: () => boolean): Promise<void> {
    for (const vip of dropped) await ensureVip(this.runner, vip, false);
    for (const vip of spec.vips) {
      if ((await ensureVip(this.runner, vip, true)) === "changed") this.burst(spec, vip, holding);
    }
  }

  /** The unit's gratuitous ARP burst for one VIP, in the background: renewals must not wait for it. */
  private burst(spec: LeaseUnitSpec, vip: Vip, holding: () => boolean): void {
    void announce(this.runner, vip, spec.garp.count, spec.garp.interval, undefined, holding).catch((err) =>
      this.log(`${spec.name}: gratuitous ARP failed: ${(err as Error).message}`),
    );
  }

  /** Removes every VIP of the unit, each on its own: one that fails does not keep the others. */
  async remove(spec: LeaseUnitSpec): Promise<void> {
    this.stop();
    for (const vip of spec.vips) {
      try {
        await ensureVip(this.runner, vip, false);
      } catch (err) {
        this.log(`${spec.name}: removing ${vip.cidr}: ${(err as Error).message}`);
      }
    }
  }

  stop(): void {
    if (this.refresh) clearInterval(this.refresh);
    this.refresh = null;
  }
}
