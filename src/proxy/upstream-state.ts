import type { Pool as UndiciPool } from 'undici';
import { Pool } from './pool.js';
import type { Upstream } from './types.js';

/**
 * Connections kept per upstream instance. One request per connection (`pipelining: 1`) so a slow
 * response never holds up the ones queued behind it.
 */
const POOL_OPTIONS: UndiciPool.Options = {
  connections: 64,
  pipelining: 1,
  // Node servers announce `Keep-Alive: timeout=5`; undici subtracts this margin from the hint so it
  // retires an idle socket well before the upstream closes it under a request in flight.
  keepAliveTimeoutThreshold: 2_000,
};

function originOf(host: string, port: number): string {
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** One upstream instance: its connection pool and how many requests are in flight to it. */
export class UpstreamState {
  readonly pool: Pool;
  inFlight = 0;

  constructor(
    readonly upstream: Upstream,
    /** Called whenever inFlight drops to zero, so drain waiters can re-check. */
    private readonly onIdle: () => void,
  ) {
    this.pool = new Pool(originOf(upstream.host, upstream.port), POOL_OPTIONS);
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

  /** Wait for in-flight requests when there are none left to wait for, otherwise cut them. */
  async shutdown(): Promise<void> {
    if (this.inFlight === 0) await this.pool.close();
    else await this.pool.destroy();
  }
}
