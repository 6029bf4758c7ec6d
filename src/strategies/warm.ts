import type { StrategyContext } from './types.js';
import { probeRequests } from './probes.js';

/**
 * Requests per new instance before it takes user traffic: a cold process (JIT, lazy requires,
 * first template render, empty pools) answers its first requests several times slower than a
 * warm one, and judged against the warm stable release that is a false alarm. A few dozen
 * cost tens of milliseconds on a fast app.
 */
const PER_INSTANCE = 20;

/**
 * Sends the smoke and health requests to a new release through the preview route (round robin
 * over its instances), a few at a time, for at most `analysis.warmup`. Answers are not judged:
 * the smoke tests did that, and the analysis judges what follows.
 */
export async function warmUp(ctx: StrategyContext, release: string, instances: number): Promise<string> {
  const requests = probeRequests(ctx.config);
  const total = PER_INSTANCE * instances;
  const started = Date.now();
  const deadline = started + ctx.config.analysis.warmupMs;
  let sent = 0;
  let failed = 0;
  const worker = async () => {
    while (sent < total && Date.now() < deadline) {
      const req = requests[sent++ % requests.length]!;
      const status = await ctx.target.preview(release, req).then((r) => r.status, () => 0);
      if (status === 0 || status >= 500) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(2 * instances, 8) }, worker));
  const errors = failed ? `, ${failed} answered 5xx or not at all` : '';
  return `${sent} request(s) through the preview route to ${instances} instance(s) in ${Date.now() - started}ms${errors}`;
}
