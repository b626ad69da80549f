/**
 * Callers that wait for the coordinator's state to reach a condition (a switchover's new
 * holder, a drained node holding nothing). Conditions are checked after each change the
 * object makes, not by polling, and a waiter gives up at its deadline.
 */
interface Waiter {
  done: () => boolean;
  resolve: (reached: boolean) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Waiters {
  private readonly waiting = new Set<Waiter>();

  /** True once `done()` holds, false if it does not within `waitMs`. */
  until(done: () => boolean, waitMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        done,
        resolve,
        timer: setTimeout(() => {
          this.waiting.delete(waiter);
          resolve(done());
        }, waitMs),
      };
      this.waiting.add(waiter);
    });
  }

  /** The state changed: wakes every waiter whose condition now holds. */
  changed(): void {
    for (const waiter of this.waiting) {
      if (!waiter.done()) continue;
      clearTimeout(waiter.timer);
      this.waiting.delete(waiter);
      waiter.resolve(true);
    }
  }
}
