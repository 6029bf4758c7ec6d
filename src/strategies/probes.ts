import type { MetricsSnapshot, ReleaseMetrics } from '../analysis/metrics.js';
import type { Config } from '../config/types.js';
import { LatencyHistogram, LATENCY_BOUNDS_MS } from '../proxy/latency.js';
import type { ProbeRequest, Target } from '../targets/types.js';
import { smokeChecks } from './smoke.js';

/** The requests ccom sends as its own evidence: the smoke checks and the health path. */
export function probeRequests(config: Config): ProbeRequest[] {
  const requests = smokeChecks(config).map((c) => ({ method: c.method, path: c.path }));
  if (!requests.some((r) => r.method === 'GET' && r.path === config.health.path)) requests.push({ method: 'GET', path: config.health.path });
  return requests;
}

interface Tally {
  metrics: ReleaseMetrics;
  histogram: LatencyHistogram;
}

/**
 * ccom's own traffic for releases that get too little of their users': while `active`, each
 * release gets `rate` requests a second through the preview route (one at a time, so a slow
 * release gets fewer, never a pile-up), counted here and never in the proxy's user metrics.
 * Snapshots have the proxy's shape, so windows and the judge work on them unchanged.
 */
export class Prober {
  active = false;
  private running = true;
  private readonly tallies = new Map<string, Tally>();
  private readonly loops: Promise<void>[];

  constructor(target: Target, releases: string[], requests: ProbeRequest[], rate: number) {
    const gapMs = 1000 / rate;
    this.loops = releases.map(async (release) => {
      const tally: Tally = { metrics: { requests: 0, status5xx: 0, connectionErrors: 0, latency: [] }, histogram: new LatencyHistogram() };
      this.tallies.set(release, tally);
      for (let i = 0; this.running; i++) {
        const started = performance.now();
        if (this.active) await probeOnce(target, release, requests[i % requests.length]!, tally);
        await sleep(Math.max(0, gapMs - (performance.now() - started)));
      }
    });
  }

  snapshot(): MetricsSnapshot {
    const releases: Record<string, ReleaseMetrics> = {};
    for (const [id, t] of this.tallies) releases[id] = { ...t.metrics, latency: t.histogram.snapshot() };
    return { at: Date.now(), boundsMs: [...LATENCY_BOUNDS_MS], releases };
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** Answers of the agent itself, about its table rather than the release (during a restart). */
const NOT_THE_RELEASE = new Set(['no-upstream', 'unknown-release']);

/**
 * One probe, counted only when it says something about the release: an agent that cannot be
 * reached (restarting: the socket refuses, ENOENT) or that answers for its own table is no
 * evidence against the release. No answer at all within the timeout is: the release hangs.
 */
async function probeOnce(target: Target, release: string, req: ProbeRequest, tally: Tally): Promise<void> {
  const started = performance.now();
  try {
    const res = await target.preview(release, req);
    if (NOT_THE_RELEASE.has(res.headers['x-ccom'] ?? '')) return;
    if (res.status >= 500) tally.metrics.status5xx++;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== undefined) return;
    tally.metrics.connectionErrors++;
  }
  tally.histogram.record(performance.now() - started);
  tally.metrics.requests++;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
