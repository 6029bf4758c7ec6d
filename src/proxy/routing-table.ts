import type { LatencyHistogram } from './latency.js';
import type { ReleaseCounters, ReleaseRoute } from './types.js';
import type { UpstreamState } from './upstream-state.js';

/** What the router measures per release; it outlives table swaps. */
export interface ReleaseStats {
  counters: ReleaseCounters;
  latency: LatencyHistogram;
}

/** A release as the hot path sees it: resolved upstream states and its live stats. */
export class CompiledRelease {
  /** Smooth weighted round robin state (nginx's algorithm). */
  current = 0;
  private next = 0;

  constructor(
    readonly route: ReleaseRoute,
    readonly upstreams: readonly UpstreamState[],
    readonly stats: ReleaseStats,
  ) {}

  get id(): string {
    return this.route.id;
  }

  get weight(): number {
    return this.route.weight;
  }

  /** Round-robin over the release's upstreams; undefined when it has none. */
  pickUpstream(): UpstreamState | undefined {
    const count = this.upstreams.length;
    if (count === 0) return undefined;
    const picked = this.upstreams[this.next];
    this.next = this.next + 1 === count ? 0 : this.next + 1;
    return picked;
  }

  /** The next upstream in rotation that is not `failed`, if the release has another one. */
  pickOtherUpstream(failed: UpstreamState): UpstreamState | undefined {
    for (let tries = 0; tries < this.upstreams.length; tries++) {
      const candidate = this.pickUpstream();
      if (candidate !== undefined && candidate !== failed) return candidate;
    }
    return undefined;
  }
}

/** One immutable routing table; Router swaps whole tables so a request sees exactly one. */
export class RoutingTable {
  /** Releases that take public traffic: weight > 0 and at least one upstream. */
  private readonly live: CompiledRelease[];
  private readonly liveWeight: number;
  private readonly byId = new Map<string, CompiledRelease>();

  constructor(
    readonly routes: readonly ReleaseRoute[],
    releases: readonly CompiledRelease[],
  ) {
    for (const release of releases) this.byId.set(release.id, release);
    this.live = releases.filter((r) => r.weight > 0 && r.upstreams.length > 0);
    this.liveWeight = this.live.reduce((sum, r) => sum + r.weight, 0);
  }

  release(id: string): CompiledRelease | undefined {
    return this.byId.get(id);
  }

  /**
   * Smooth weighted round robin: deterministic, so a 10% canary gets exactly every tenth request
   * and the split is exact even over a handful of requests.
   */
  pickRelease(): CompiledRelease | undefined {
    const live = this.live;
    if (live.length === 1) return live[0];
    let best: CompiledRelease | undefined;
    for (const release of live) {
      release.current += release.weight;
      if (best === undefined || release.current > best.current) best = release;
    }
    if (best !== undefined) best.current -= this.liveWeight;
    return best;
  }

  /** A live release other than `excluded`, chosen by weight (rare path: retries only). */
  pickOtherRelease(excludedId: string): CompiledRelease | undefined {
    let total = 0;
    for (const release of this.live) if (release.id !== excludedId) total += release.weight;
    if (total === 0) return undefined;
    let ticket = Math.random() * total;
    let last: CompiledRelease | undefined;
    for (const release of this.live) {
      if (release.id === excludedId) continue;
      last = release;
      ticket -= release.weight;
      if (ticket < 0) return release;
    }
    return last;
  }
}
