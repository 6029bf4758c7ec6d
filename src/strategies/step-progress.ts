import type { MetricsSnapshot } from '../targets/types.js';
import type { StrategyContext } from './types.js';

/** How often a running step's live line is updated (the reporter prints plain lines far less often). */
const PROGRESS_MS = 250;

/**
 * Tells the reporter, while a canary or rolling step runs, how long it has left and what the new
 * release served since the step began: `3.2s left · new release: 152 requests, 1 error (0.66%)`.
 */
export function stepProgress(ctx: StrategyContext, opts: { release: string; durationMs: number | 'until-decision'; start: MetricsSnapshot }) {
  const started = Date.now();
  let last = 0;
  return (now: MetricsSnapshot): void => {
    const at = Date.now();
    if (at - last < PROGRESS_MS) return;
    last = at;
    const was = opts.start.releases[opts.release];
    const is = now.releases[opts.release];
    const requests = Math.max(0, (is?.requests ?? 0) - (was?.requests ?? 0));
    const errors = Math.max(0, (is?.status5xx ?? 0) + (is?.connectionErrors ?? 0) - (was?.status5xx ?? 0) - (was?.connectionErrors ?? 0));
    const left = opts.durationMs === 'until-decision' ? 'until `ccom promote` or `ccom abort`' : `${(Math.max(0, opts.durationMs - (at - started)) / 1000).toFixed(1)}s left`;
    const rate = requests > 0 ? ` (${((100 * errors) / requests).toFixed(2)}%)` : '';
    ctx.emit({ type: 'progress', text: `${left} · new release: ${requests} request${requests === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'}${rate}` });
  };
}
