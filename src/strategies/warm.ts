import type { StrategyContext } from './types.js';
import { probeRequests } from './probes.js';

/**
 * Requests per new instance before it takes user traffic, WORKERS_PER_INSTANCE at a time. A
 * fresh Node process under load is several times slower than a warm one for its first seconds
 * (JIT tiers compiling on the same cores, the heap growing): measured on this project's 2-core
 * machine beside a CPU hog, an Express page answered in 50–88 ms at the median against 16 ms
 * for about 2 s after 60 one-at-a-time requests, and as fast as the warm process from the first
 * second after 1,000 requests 8 at a time. Judged against the warm stable release, that cold
 * phase is a false alarm. The agent sends them over keep-alive connections: on a fast app the
 * whole warm-up takes tens of milliseconds.
 */
const PER_INSTANCE = 250;
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
  const plan = {
    requests: probeRequests(ctx.config),
    total: PER_INSTANCE * instances,
    concurrency: Math.min(WORKERS_PER_INSTANCE * instances, MAX_WORKERS),
    timeoutMs: Math.max(ctx.config.analysis.warmupMs, WARM_LIMIT_MS),
  };
  const report = await ctx.target.warm(release, plan);
  const errors = report.failed ? `, ${report.failed} answered 5xx or not at all` : '';
  const first = report.firstMs.length ? `first ${report.firstMs.map(ms).join(', ')}, ` : '';
  return `${report.sent} warm-up request(s) to ${instances} instance(s) in ${report.durationMs}ms${errors} (${first}median ${ms(report.medianMs)})`;
}

function ms(x: number): string {
  return `${x < 10 ? x.toFixed(1) : Math.round(x)}ms`;
}
