import { judge } from '../analysis/judge.js';
import { windowOf, type MetricsSnapshot } from '../analysis/metrics.js';
import { CheckFailed } from '../pipeline/failures.js';
import type { StrategyContext } from './types.js';

/** How often the judge looks: detection latency is this plus one proxy round trip. */
const TICK_MS = 100;

export interface ObserveOptions {
  /** The release under analysis and the one it is compared with (same window). */
  release: string;
  stable: string | null;
  /** Analyse for this long, then decide (a pause has no end: it waits for a decision). */
  durationMs: number | 'until-decision';
  /** Names the moment in messages: "at 10% of traffic". */
  label: string;
  /** Instances of `release` that must stay up: a crash or restart fails the analysis. */
  instanceIds: string[];
}

/**
 * Watches live traffic of a new release and decides: returns when it passed, throws
 * CheckFailed (the caller rolls back) when it failed, a decision said abort, or it stayed
 * inconclusive longer than allowed under `analysis.onInconclusive: rollback`.
 */
export async function observe(ctx: StrategyContext, opts: ObserveOptions): Promise<string> {
  const { target, config, emit } = ctx;
  const analysis = config.analysis;
  let baseline = await target.metrics();
  const started = Date.now();
  // Latency is judged after a warm-up; errors from the first request on. The window restarts
  // when warm-up ends, so the step's final verdict covers the warm process only.
  const configured = analysis.warmupMs;
  const warmupMs = Math.min(configured, opts.durationMs === 'until-decision' ? configured : opts.durationMs / 4);
  let warmingUp = true;
  let inconclusiveSince: number | undefined;
  for (;;) {
    await sleep(TICK_MS);
    if (ctx.steps.interrupted) throw new CheckFailed(`${ctx.steps.interrupted} ${opts.label}`);
    const now = await target.metrics();
    await checkInstances(ctx, opts);
    const decision = ctx.control?.decision();
    if (decision?.command === 'abort') throw new CheckFailed(`aborted by ${decision.by} ${opts.label}`);
    const elapsed = Date.now() - started;
    const waiting = opts.durationMs === 'until-decision';
    const final = !waiting && elapsed >= (opts.durationMs as number);
    const verdict = judge(windowOf(now, baseline, opts.release), stableWindow(now, baseline, opts.stable), analysis, now.boundsMs, final, { warmingUp });
    if (verdict.kind === 'fail') throw new CheckFailed(`analysis failed ${opts.label}: ${verdict.message}`);
    if (warmingUp && elapsed >= warmupMs) {
      // The window restarts here; this tick's decision (promote) is still acted on below.
      warmingUp = false;
      baseline = now;
    }
    if (waiting) {
      if (decision?.command === 'promote') return `promoted by ${decision.by}; ${verdict.message}`;
      continue;
    }
    if (verdict.kind === 'pass') return verdict.message;
    if (verdict.kind === 'inconclusive') {
      if (inconclusiveSince === undefined) {
        inconclusiveSince = Date.now();
        emit({ type: 'paused', why: `not enough traffic to judge the new release ${opts.label} (${verdict.message}); waiting up to ${Math.round(analysis.inconclusiveTimeoutMs / 1000)}s for more` });
      } else if (Date.now() - inconclusiveSince >= analysis.inconclusiveTimeoutMs) {
        if (analysis.onInconclusive === 'promote') {
          emit({ type: 'info', message: `still inconclusive ${opts.label}; continuing as analysis.onInconclusive: promote says` });
          return `inconclusive (${verdict.message}), continued by configuration`;
        }
        throw new CheckFailed(`analysis inconclusive ${opts.label}: ${verdict.message} within ${Math.round(analysis.inconclusiveTimeoutMs / 1000)}s (analysis.onInconclusive: rollback)`);
      }
    }
  }
}

function stableWindow(now: MetricsSnapshot, baseline: MetricsSnapshot, stable: string | null) {
  return stable ? windowOf(now, baseline, stable) : undefined;
}

/** An instance of the new release that crashed (and was restarted) fails it at once. */
async function checkInstances(ctx: StrategyContext, opts: ObserveOptions): Promise<void> {
  if (opts.instanceIds.length === 0) return;
  const { instances } = await ctx.target.status();
  for (const id of opts.instanceIds) {
    const instance = instances.find((i) => i.id === id);
    if (!instance) throw new CheckFailed(`instance ${id} of release ${opts.release} disappeared ${opts.label}`);
    if (instance.restarts > 0 || instance.state === 'restarting' || instance.state === 'unhealthy') {
      throw new CheckFailed(`instance ${id} of release ${opts.release} crashed ${opts.label} (state ${instance.state}, ${instance.restarts} restart(s))`);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
