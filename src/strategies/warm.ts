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
 * Rounds go on while the new release still gets faster (its JIT and caches catching up), for
 * at most this long: at least MIN_ROUNDS, then until a round's median is within SETTLED_RATIO
 * of the one before. The stable release is no yardstick here: it carries the users' load.
 */
const SETTLE_LIMIT_MS = 10_000;
const MIN_ROUNDS = 3;
const MAX_ROUNDS = 25;
const SETTLED_RATIO = 1.1;

interface Round {
  sent: number;
  failed: number;
  medianMs: number;
}

/**
 * Sends the smoke and health requests to a new release through the preview route (round robin
 * over its instances), a few at a time, in rounds until its latency stops falling, within
 * max(analysis.warmup, SETTLE_LIMIT_MS). Answers are not judged: the smoke tests did that, and
 * the analysis judges what follows.
 */
export async function warmUp(ctx: StrategyContext, release: string, instances: number): Promise<string> {
  const started = Date.now();
  const deadline = started + Math.max(ctx.config.analysis.warmupMs, SETTLE_LIMIT_MS);
  const total = PER_INSTANCE * instances;
  let sent = 0;
  let failed = 0;
  const medians: number[] = [];
  while (Date.now() < deadline && medians.length < MAX_ROUNDS) {
    const round = await warmRound(ctx, release, total, instances, deadline);
    sent += round.sent;
    failed += round.failed;
    medians.push(round.medianMs);
    if (settled(medians)) break;
  }
  const errors = failed ? `, ${failed} answered 5xx or not at all` : '';
  const first = medians[0] ?? 0;
  const last = medians[medians.length - 1] ?? 0;
  return `${sent} request(s) through the preview route to ${instances} instance(s) in ${Date.now() - started}ms${errors} (median ${ms(first)} in the first round, ${ms(last)} in the last)`;
}

function settled(medians: number[]): boolean {
  if (medians.length < MIN_ROUNDS) return false;
  const [before, last] = medians.slice(-2) as [number, number];
  return last >= before / SETTLED_RATIO;
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
