interface Waiter {
  drained(): boolean;
  finish(result: boolean): void;
}

/** Pending waitDrained calls, re-checked whenever some upstream's in-flight count reaches zero. */
export class DrainWaiters {
  private readonly waiting = new Set<Waiter>();

  constructor(private readonly inFlight: (upstreamId: string) => number) {}

  wait(upstreamIds: readonly string[], timeoutMs: number): Promise<boolean> {
    const ids = [...upstreamIds];
    const drained = (): boolean => ids.every((id) => this.inFlight(id) === 0);
    if (drained()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        drained,
        finish: (result) => {
          clearTimeout(timer);
          this.waiting.delete(waiter);
          resolve(result);
        },
      };
      const timer = setTimeout(() => waiter.finish(false), Math.max(0, timeoutMs));
      this.waiting.add(waiter);
    });
  }

  /** Called on the hot path when an upstream goes idle; cheap when nobody waits. */
  notify(): void {
    if (this.waiting.size === 0) return;
    for (const waiter of this.waiting) if (waiter.drained()) waiter.finish(true);
  }

  /** Settle every pending wait now with its current state (the router is closing). */
  flush(): void {
    for (const waiter of this.waiting) waiter.finish(waiter.drained());
  }
}
