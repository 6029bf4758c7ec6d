import type { StrategyContext } from './types.js';
import { probeRequests } from './probes.js';

/**
 * Requests per new instance in a warming round: a cold process (JIT, lazy requires, first
 * template render, empty pools) answers its first requests several times slower than a warm
 * one, and judged against the warm stable release that is a false alarm. A round costs tens of
 * milliseconds on a fast app.
 */
const PER_INSTANCE = 20;

/**
 * With a stable release to compare with, rounds go on until the new release answers the same
 * requests about as fast as the stable one (the JIT has caught up), for at most this long.
 */
const SETTLE_LIMIT_MS = 15_000;

/** "About as fast": the median of a round within this ratio, or this many ms, of the stable one's. */
const SETTLED_RATIO = 1.5;
const SETTLED_DELTA_MS = 5;

interface Round {
  sent: number;
  failed: number;
  medianMs: number;
}

/**
 * Sends the smoke and health requests to a new release through the preview route (round robin
 * over its instances), a few at a time. With a stable release serving, the same requests go to
 * it in turn, and rounds repeat until the new release's median is close to the stable one's
 * (or SETTLE_LIMIT_MS); without one, one round within `analysis.warmup`. Answers are not
 * judged: the smoke tests did that, and the analysis judges what follows.
 */
export async function warmUp(ctx: StrategyContext, release: string, instances: number): Promise<string> {
  const stable = stableToCompare(ctx, release);
  const started = Date.now();
  const deadline = started + (stable ? Math.max(ctx.config.analysis.warmupMs, SETTLE_LIMIT_MS) : ctx.config.analysis.warmupMs);
  const total = PER_INSTANCE * instances;
  let sent = 0;
  let failed = 0;
  let settled: string | undefined;
  let rounds = 0;
  do {
    const fresh = await warmRound(ctx, release, total, instances, deadline);
    sent += fresh.sent;
    failed += fresh.failed;
    rounds++;
    if (!stable) break;
    const base = await warmRound(ctx, stable.id, total, stable.instances, deadline);
    if (fresh.medianMs <= Math.max(base.medianMs * SETTLED_RATIO, base.medianMs + SETTLED_DELTA_MS)) {
      settled = `median ${ms(fresh.medianMs)} against ${ms(base.medianMs)} on ${stable.id}`;
    } else if (Date.now() >= deadline) {
      settled = `still slower after ${SETTLE_LIMIT_MS / 1000}s: median ${ms(fresh.medianMs)} against ${ms(base.medianMs)} on ${stable.id}`;
    }
  } while (!settled && Date.now() < deadline);
  const errors = failed ? `, ${failed} answered 5xx or not at all` : '';
  const compared = settled ? ` (${rounds} round(s); ${settled})` : '';
  return `${sent} request(s) through the preview route to ${instances} instance(s) in ${Date.now() - started}ms${errors}${compared}`;
}

/** The release the new one is judged against, when it has healthy instances to answer. */
function stableToCompare(ctx: StrategyContext, release: string): { id: string; instances: number } | undefined {
  const id = ctx.previous?.spec.id;
  if (!id || id === release) return undefined;
  const instances = ctx.running.filter((i) => i.release === id && i.healthy).length;
  return instances > 0 ? { id, instances } : undefined;
}

async function warmRound(ctx: StrategyContext, release: string, total: number, instances: number, deadline: number): Promise<Round> {
  const requests = probeRequests(ctx.config);
  const times: number[] = [];
  let sent = 0;
  let failed = 0;
  const worker = async () => {
    while (sent < total && Date.now() < deadline) {
      const req = requests[sent++ % requests.length]!;
      const t0 = performance.now();
      const status = await ctx.target.preview(release, req).then((r) => r.status, () => 0);
      times.push(performance.now() - t0);
      if (status === 0 || status >= 500) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(2 * instances, 8) }, worker));
  return { sent, failed, medianMs: median(times) };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function ms(x: number): string {
  return `${x < 10 ? x.toFixed(1) : Math.round(x)}ms`;
}
