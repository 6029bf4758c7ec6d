import type { IncomingMessage, ServerResponse } from 'node:http';
import { messageOf } from '../errors.js';
import type { ClientConnection, ClientExchange, RequestDispatcher } from './client-connection.js';
import { tick } from './clock.js';
import { DrainWaiters } from './drain-waiters.js';
import { Exchange, type ExchangeRequest, type RetryPicker, type Target } from './exchange.js';
import { NO_LIVE_RELEASE, respondText } from './failure.js';
import { agentLog, FailureLog, type LogLine } from './failure-log.js';
import type { RequestHead } from './http1/head.js';
import { upstreamHead } from './upstream-head.js';
import { forwardPreview } from './preview.js';
import { LatencyHistogram, LATENCY_BOUNDS_MS } from './latency.js';
import { CompiledRelease, RoutingTable, STICKY_BUCKETS, type ReleaseStats } from './routing-table.js';
import { ZERO_COUNTERS, type ReleaseCounters, type ReleaseRoute, type Upstream } from './types.js';
import { BusinessMetrics } from './business.js';
import { UpstreamState } from './upstream-state.js';
import type { FlagBucketHook } from './flag-bucket.js';

export type { BusinessCounts, BusinessRoute, ReleaseCounters, ReleaseRoute, Upstream } from './types.js';
export { createProxyServer } from './server.js';
export { LATENCY_BOUNDS_MS } from './latency.js';

function freezeRoute(route: ReleaseRoute): ReleaseRoute {
  if (!Number.isFinite(route.weight) || route.weight < 0) {
    throw new Error(`release ${route.id}: weight must be a finite number ≥ 0, got ${route.weight}`);
  }
  const upstreams = route.upstreams.map((u) => Object.freeze({ id: u.id, host: u.host, port: u.port }));
  return Object.freeze({ id: route.id, weight: route.weight, upstreams: Object.freeze(upstreams) as Upstream[] });
}

const STICKY_COOKIE = 'ccom_bucket';
const STICKY_PATTERN = /(?:^|;\s*)ccom_bucket=(\d{1,5})(?:;|$)/;

/** The client's sticky bucket, when it sent a valid one. */
function bucketFromCookie(cookie: string | undefined): number | undefined {
  if (cookie === undefined) return undefined;
  const match = STICKY_PATTERN.exec(cookie);
  const bucket = match ? Number(match[1]) : NaN;
  return bucket >= 0 && bucket < STICKY_BUCKETS ? bucket : undefined;
}

const SWEEP_MS = 1_000;

/** The query string of `url` (with its `?`), or '' when it has none. */
function queryOf(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at < 0 ? '' : (url as string).slice(at);
}

/**
 * Weighted HTTP router in front of release instances. Routing state is one immutable table
 * swapped atomically; upstream connection pools and counters outlive table swaps.
 */
export class Router implements RequestDispatcher {
  private current = new RoutingTable([], []);
  private readonly upstreams = new Map<string, UpstreamState>();
  private readonly releaseStats = new Map<string, ReleaseStats>();
  private readonly drains = new DrainWaiters((id) => this.inFlight(id));
  private readonly onUpstreamIdle = (): void => this.drains.notify();
  private readonly retryPublic: RetryPicker = (failed, tried) => this.publicRetryTarget(failed, tried);
  private readonly log: LogLine;
  /** What the proxy answered 502/504 itself, and why: the client is told less. */
  private readonly failures: FailureLog;
  /** Business routes (e.g. POST /checkout) whose outcomes are counted per release. */
  readonly business = new BusinessMetrics();
  /** Feature flags: the x-ccom-bucket header and per-variant counts (src/proxy/flag-bucket.ts); unset without flags. */
  flagBucket: FlagBucketHook | undefined;
  /** Retires idle connections past their keep-alive and times out silent instances. */
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_MS).unref();

  /** `log` writes a line to the agent log (stderr by default, which the agent sends there). */
  constructor(options: { log?: LogLine } = {}) {
    this.log = options.log ?? agentLog;
    this.failures = new FailureLog(this.log);
  }

  /** Atomic swap of the whole routing table: a request picks its target from exactly one table. */
  setTable(releases: ReleaseRoute[]): void {
    const routes = releases.map(freezeRoute);
    const ids = new Set<string>();
    for (const route of routes) {
      if (ids.has(route.id)) throw new Error(`release ${route.id} appears twice in the routing table`);
      ids.add(route.id);
    }
    const compiled = routes.map(
      (route) => new CompiledRelease(route, route.upstreams.map((u) => this.stateOf(u)), this.statsOf(route.id)),
    );
    this.current = new RoutingTable(Object.freeze(routes), compiled);
  }

  table(): readonly ReleaseRoute[] {
    return this.current.routes;
  }

  /**
   * Public traffic: a release by smooth weighted round robin among those with weight > 0 and
   * ≥ 1 upstream, then an upstream round-robin. None → 503 "no live release".
   */
  dispatch(client: ClientConnection, head: RequestHead): ClientExchange | null {
    try {
      const table = this.current;
      let release: CompiledRelease | undefined;
      let setCookie: string | undefined;
      if (table.split) {
        // During a split a client keeps its release: its `ccom_bucket` cookie names a bucket of
        // the weight line. A new client is placed by weighted round robin (exact shares even
        // without cookies) and given a bucket inside its release's share.
        const bucket = bucketFromCookie(head.cookie);
        release = bucket === undefined ? table.pickRelease() : table.pickByBucket(bucket);
        if (release !== undefined && bucket === undefined) {
          setCookie = `${STICKY_COOKIE}=${table.bucketFor(release)}; Path=/; Max-Age=86400; SameSite=Lax; HttpOnly`;
        }
      } else {
        release = table.pickRelease();
      }
      const upstream = release?.pickUpstream();
      if (release === undefined || upstream === undefined) {
        client.answer(NO_LIVE_RELEASE);
        return null;
      }
      const request: ExchangeRequest = {
        method: head.method,
        target: head.target,
        head: upstreamHead(head, client.remoteAddress, upstream.upstream, (client.socket as { encrypted?: boolean }).encrypted === true),
        upgrade: head.upgrade !== undefined,
        setCookie,
        onStatus: this.business.hook(head.method, head.target),
      };
      this.flagBucket?.apply(head, request);
      upstream.begin();
      const exchange = new Exchange(client, request, release, upstream, this.retryPublic, this.failures);
      exchange.start();
      return exchange;
    } catch (err) {
      // A bug in the proxy must cost one request, never the agent process.
      this.log(`proxy: internal error on ${head.method} ${head.target.split('?')[0]}: ${err instanceof Error ? (err.stack ?? err.message) : messageOf(err)}`);
      client.answer({ status: 500, body: 'proxy error: see the agent log\n', tag: 'proxy-error' });
      return null;
    }
  }

  /**
   * Preview: forward to the named release's upstreams regardless of weight, with the URL path
   * replaced by `path` (the client's query string is kept unless `path` has its own).
   * Unknown release → 404; a release without upstreams → 503.
   */
  handlePreview(releaseId: string, path: string, req: IncomingMessage, res: ServerResponse): void {
    const release = this.current.release(releaseId);
    if (release === undefined) {
      return respondText(res, { status: 404, body: `unknown release ${releaseId}\n`, tag: 'unknown-release' });
    }
    const target = path.startsWith('/') ? path : `/${path}`;
    forwardPreview(req, res, target.includes('?') ? target : target + queryOf(req.url), release);
  }

  /** Requests currently in flight to an upstream (counted from the moment it is picked). */
  inFlight(upstreamId: string): number {
    return this.upstreams.get(upstreamId)?.inFlight ?? 0;
  }

  /** Resolves true once none of these upstreams has in-flight requests, false on timeout. */
  waitDrained(upstreamIds: string[], timeoutMs: number): Promise<boolean> {
    return this.drains.wait(upstreamIds, timeoutMs);
  }

  /**
   * Close and forget the pool of an upstream: call it after the upstream left the table and
   * drained. Requests still in flight to it (a drain that timed out) are aborted.
   */
  async closeUpstream(upstreamId: string): Promise<void> {
    const state = this.upstreams.get(upstreamId);
    if (state === undefined) return;
    this.upstreams.delete(upstreamId);
    state.shutdown();
  }

  /** A snapshot of a release's counters (zeros for a release never routed to). */
  counters(releaseId: string): ReleaseCounters {
    const counters = this.releaseStats.get(releaseId)?.counters;
    return counters === undefined ? { ...ZERO_COUNTERS } : { ...counters };
  }

  /**
   * A snapshot of a release's time-to-response-head histogram (buckets of LATENCY_BOUNDS_MS,
   * cumulative since start); src/analysis/metrics.ts reads windows and quantiles from it.
   */
  latency(releaseId: string): number[] {
    return this.releaseStats.get(releaseId)?.latency.snapshot() ?? new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  }

  /** Sum of response times (ms) of a release, for Prometheus' histogram `_sum`. */
  latencySumMs(releaseId: string): number {
    return this.releaseStats.get(releaseId)?.latency.sumMs ?? 0;
  }

  /** Close every pool; pending waitDrained calls settle with the current state. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.current = new RoutingTable([], []);
    const states = [...this.upstreams.values()];
    this.upstreams.clear();
    this.drains.flush();
    for (const state of states) state.shutdown();
    await Promise.resolve();
  }

  private sweep(): void {
    const now = tick();
    for (const state of this.upstreams.values()) state.pool.sweep(now);
    this.failures.sweep(now);
  }

  /** Another instance of the same release not tried yet, else one of another live release. */
  private publicRetryTarget(failed: Target, tried: ReadonlySet<UpstreamState>): Target | undefined {
    const sibling = this.siblingTarget(failed, tried);
    if (sibling !== undefined) return sibling;
    const release = this.current.pickOtherRelease(failed.release.id);
    const upstream = release?.pickUntried(tried);
    return release === undefined || upstream === undefined ? undefined : { release, upstream };
  }

  private siblingTarget(failed: Target, tried: ReadonlySet<UpstreamState>): Target | undefined {
    const upstream = failed.release.pickUntried(tried);
    return upstream === undefined ? undefined : { release: failed.release, upstream };
  }

  /** The pool for an upstream, reused across tables unless the id now names another address. */
  private stateOf(upstream: Upstream): UpstreamState {
    const existing = this.upstreams.get(upstream.id);
    if (existing?.sameAddress(upstream)) return existing;
    // The old pool finishes what it has in flight, then closes.
    if (existing !== undefined) existing.pool.close();
    const state = new UpstreamState(upstream, this.onUpstreamIdle);
    this.upstreams.set(upstream.id, state);
    return state;
  }

  private statsOf(releaseId: string): ReleaseStats {
    let stats = this.releaseStats.get(releaseId);
    if (stats === undefined) {
      stats = { counters: { ...ZERO_COUNTERS }, latency: new LatencyHistogram() };
      this.releaseStats.set(releaseId, stats);
    }
    return stats;
  }
}
