/** What the simulated networks (majority-sim.ts, lease-sim.ts) share: a seeded generator and an event queue. */

/** A small seeded generator, so a failing run can be replayed from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Queued<T> = T & { at: number; seq: number };

/** A binary heap of events by time, then by insertion. */
export class Queue<T extends { at: number }> {
  private readonly items: Queued<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(event: T): void {
    const e = { ...event, seq: this.seq++ } as Queued<T>;
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(a[p] as Queued<T>, e)) break;
      a[i] = a[p] as Queued<T>;
      i = p;
    }
    a[i] = e;
  }

  pop(): Queued<T> | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      let m = i;
      let best = last;
      for (const c of [l, l + 1]) {
        if (c < a.length && before(a[c] as Queued<T>, best)) {
          m = c;
          best = a[c] as Queued<T>;
        }
      }
      if (m === i) break;
      a[i] = best;
      i = m;
    }
    a[i] = last;
    return top;
  }
}

const before = (x: { at: number; seq: number }, y: { at: number; seq: number }) =>
  x.at < y.at || (x.at === y.at && x.seq < y.seq);

/** A process's clock: real time t reads offset + rate * t. */
export interface Clock {
  rate: number;
  offset: number;
}

/** A clock within the drift bound; half of them run at the bound itself, where a broken margin shows first. */
export function driftingClock(random: () => number, drift: number): Clock {
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  return {
    rate: random() < 0.5 ? 1 + (random() < 0.5 ? -1 : 1) * drift : between(1 - drift, 1 + drift),
    offset: between(0, 1e6),
  };
}

export const localTime = (c: Clock, t: number) => c.offset + c.rate * t;
export const realTime = (c: Clock, l: number) => (l - c.offset) / c.rate;
