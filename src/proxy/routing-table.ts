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

  /** The next upstream in rotation that this request has not failed on yet, if any. */
  pickUntried(tried: ReadonlySet<UpstreamState>): UpstreamState | undefined {
    for (let n = 0; n < this.upstreams.length; n++) {
      const candidate = this.pickUpstream();
      if (candidate !== undefined && !tried.has(candidate)) return candidate;
    }
    return undefined;
  }
}

/** Resolution of sticky assignment: a client's cookie holds one of these buckets. */
export const STICKY_BUCKETS = 10_000;

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

  /** More than one release takes traffic: a canary or rolling split, where clients are kept sticky. */
  get split(): boolean {
    return this.live.length > 1;
  }

  /**
   * The release owning a client's bucket (0 ≤ bucket < BUCKETS): buckets are laid over the live
   * releases in table order by weight, so a client keeps its release while weights stay put and
   * a canary's clients stay on it as its share grows.
   */
  pickByBucket(bucket: number): CompiledRelease | undefined {
    let edge = (bucket / STICKY_BUCKETS) * this.liveWeight;
    for (const release of this.live) {
      edge -= release.weight;
      if (edge < 0) return release;
    }
    return this.live[this.live.length - 1];
  }

  /** A random bucket inside `release`'s share, for a client seen for the first time. */
  bucketFor(release: CompiledRelease): number {
    let start = 0;
    for (const r of this.live) {
      if (r === release) break;
      start += r.weight;
    }
    const from = Math.ceil((start / this.liveWeight) * STICKY_BUCKETS);
    const to = Math.floor(((start + release.weight) / this.liveWeight) * STICKY_BUCKETS);
    return to > from ? from + Math.floor(Math.random() * (to - from)) : from;
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
