import type { WarmReport } from '../targets/types.js';
import type { StrategyContext } from './types.js';
import { probeRequests } from './probes.js';

/**
 * Requests per new instance before it takes user traffic, WORKERS_PER_INSTANCE at a time. A
 * fresh Node process under load is several times slower than a warm one for its first seconds
 * (JIT tiers compiling on the same cores, the heap growing): measured on this project's 2-core
 * machine beside a CPU hog, an Express page answered in 50–88 ms at the median against 16 ms
 * for about 2 s after 60 one-at-a-time requests, and as fast as the warm process from the first
 * second after 1,000 requests 8 at a time. Judged against the warm stable release, that cold
 * phase is a false alarm. The agent sends them over keep-alive connections, in batches: once
 * a batch's p90 is under half of `analysis.minLatencyDelta`, what is left of the cold phase
 * cannot make a latency ratio fail (the ratio needs that much more), and a fast app stops after
 * one batch.
 */
const PER_INSTANCE = 250;
const BATCH_PER_INSTANCE = 25;
const WORKERS_PER_INSTANCE = 4;
const MAX_WORKERS = 16;

/** The warm-up ends after this long (or `analysis.warmup`, if longer) even when short of its requests. */
const WARM_LIMIT_MS = 10_000;

/**
 * Sends the smoke and health requests to a new release's instances (round robin), several at
 * a time as a share of live traffic would. Answers are not judged: the smoke tests did that,
 * and the analysis judges what follows.
 */
export async function warmUp(ctx: StrategyContext, release: string, instances: number): Promise<string> {
  const started = Date.now();
  const { analysis } = ctx.config;
  const deadline = started + Math.max(analysis.warmupMs, WARM_LIMIT_MS);
  const requests = probeRequests(ctx.config);
  const concurrency = Math.min(WORKERS_PER_INSTANCE * instances, MAX_WORKERS);
  const fastEnoughMs = analysis.minLatencyDeltaMs / 2;
  let sent = 0;
  let failed = 0;
  let first: number[] = [];
  let last: WarmReport | undefined;
  while (sent < PER_INSTANCE * instances && Date.now() < deadline) {
    const total = Math.min(BATCH_PER_INSTANCE * instances, PER_INSTANCE * instances - sent);
    last = await ctx.target.warm(release, { requests, total, concurrency, timeoutMs: deadline - Date.now() });
    if (sent === 0) first = last.firstMs;
    sent += last.sent;
    failed += last.failed;
    if (last.sent === 0 || last.p90Ms < fastEnoughMs) break;
  }
  const errors = failed ? `, ${failed} answered 5xx or not at all` : '';
  const firstMs = first.length ? `first ${first.map(ms).join(', ')}, ` : '';
  const lastBatch = last ? `last batch median ${ms(last.medianMs)}, p90 ${ms(last.p90Ms)}` : 'nothing sent';
  return `${sent} warm-up request(s) to ${instances} instance(s) in ${Date.now() - started}ms${errors} (${firstMs}${lastBatch})`;
}

function ms(x: number): string {
  return `${x < 10 ? x.toFixed(1) : Math.round(x)}ms`;
}
