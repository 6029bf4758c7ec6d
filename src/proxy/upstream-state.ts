import { UpstreamPool } from './upstream-pool.js';
import type { Upstream } from './types.js';

/** One upstream instance: its connection pool and how many requests are in flight to it. */
export class UpstreamState {
  readonly pool: UpstreamPool;
  inFlight = 0;

  constructor(
    readonly upstream: Upstream,
    /** Called whenever inFlight drops to zero, so drain waiters can re-check. */
    private readonly onIdle: () => void,
  ) {
    this.pool = new UpstreamPool(upstream);
  }

  get id(): string {
    return this.upstream.id;
  }

  /** Same instance address, so the pool can be reused across table swaps. */
  sameAddress(other: Upstream): boolean {
    return this.upstream.host === other.host && this.upstream.port === other.port;
  }

  begin(): void {
    this.inFlight++;
  }

  end(): void {
    if (--this.inFlight === 0) this.onIdle();
  }

  /** Lets in-flight requests finish when there are none left to wait for, otherwise cuts them. */
  shutdown(): void {
    if (this.inFlight === 0) this.pool.close();
    else this.pool.destroy();
  }
}
