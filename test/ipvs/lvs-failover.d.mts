/** One round of test/ipvs/failover-guest.ts: the holder died with connection sync on or off. */
export interface LvsRound {
  sync: boolean;
  holder: "d1" | "d2";
  other: "d1" | "d2";
  /** The client's connection was in the backup's IPVS table before the holder died. */
  inBackup: boolean;
  servedBy: string;
  servedAfter: string[];
  /** From the holder's death to the VIP on the other director. */
  claimMs: number;
  /** The new holder's IPVS table equals the dead one's. */
  sameTable: boolean;
  /** The connection answered again after the holder died. */
  survived: boolean;
  error: string | null;
  /** From the client's last answer before the death to its first after, or to its reset. */
  gapMs: number;
  freshServed: string;
}
export function lvsFailover(
  system: "vigil" | "keepalived",
  rounds: boolean[],
  options?: { leaseTtl?: number },
): Promise<{ rounds: LvsRound[] }>;
