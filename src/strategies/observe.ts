import { judgeEvidence, type Sample } from '../analysis/evidence.js';
import { quantileMs, windowOf, type MetricsSnapshot, type ReleaseMetrics } from '../analysis/metrics.js';
import { LatencyConfirmation } from './latency-confirm.js';
import { CheckFailed } from '../pipeline/failures.js';
import { Prober, probeRequests } from './probes.js';
import { stepProgress } from './step-progress.js';
import type { StrategyContext } from './types.js';

/** How often the judge looks: detection latency is this plus one proxy round trip. */
const TICK_MS = 100;
/** How often a wait for evidence tells its counts (the live line, `ccom status`). */
const WAIT_REPORT_MS = 1000;

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
  /** The stable release's last window, kept across steps for a step with nothing to compare (100%). */
  stableSeen?: { window?: ReleaseMetrics };
  /** This step raised the new release's share after an earlier step (see latency-confirm.ts). */
  stepUp?: boolean;
}

/**
 * Watches live traffic of a new release and decides: returns when it passed, throws
 * CheckFailed (the caller rolls back) when it failed, a decision said abort, or it stayed
 * inconclusive longer than allowed under `analysis.onInconclusive: rollback`. While live
 * traffic is short of minRequests, ccom probes both releases itself (analysis.probeRate).
 */
export async function observe(ctx: StrategyContext, opts: ObserveOptions): Promise<string> {
  const rate = ctx.config.analysis.probeRate;
  const releases = opts.stable ? [opts.release, opts.stable] : [opts.release];
  const prober = rate > 0 ? new Prober(ctx.target, releases, probeRequests(ctx.config), rate) : undefined;
  try {
    return await judgeLoop(ctx, opts, prober);
  } finally {
    await prober?.stop();
    ctx.control?.waitFor(undefined);
  }
}

async function judgeLoop(ctx: StrategyContext, opts: ObserveOptions, prober: Prober | undefined): Promise<string> {
  const { target, config } = ctx;
  const analysis = config.analysis;
  let baseline = await target.metrics();
  let last = baseline;
  let probeBaseline = prober?.snapshot();
  const started = Date.now();
  // Latency is judged after a warm-up; errors from the first request on. The window restarts
  // when warm-up ends, so the step's final verdict covers the warm process only.
  const configured = analysis.warmupMs;
  const warmupMs = Math.min(configured, opts.durationMs === 'until-decision' ? configured : opts.durationMs / 4);
  let warmingUp = true;
  /** Confirms or clears a latency verdict (see latency-confirm.ts). */
  let confirm: LatencyConfirmation<Marks, Windows> | undefined;
  let latest: Marks = { live: baseline, probes: probeBaseline };
  const wait = evidenceWait(ctx, opts);
  const progress = stepProgress(ctx, { release: opts.release, durationMs: opts.durationMs, start: baseline });
  for (;;) {
    await sleep(TICK_MS);
    if (ctx.steps.interrupted) throw new CheckFailed(`${ctx.steps.interrupted} ${opts.label}`);
    const now = await target.metrics();
    // An agent started again counts from zero: so does the window, or it would mix two agents' counts.
    if (restarted(now, last)) baseline = { ...now, releases: {} };
    last = now;
    progress(now);
    const probesNow = prober?.snapshot();
    latest = { live: now, probes: probesNow };
    await checkInstances(ctx, opts);
    const decision = ctx.control?.decision();
    if (decision?.command === 'abort') throw new CheckFailed(`aborted by ${decision.by} ${opts.label}`);
    const elapsed = Date.now() - started;
    const paused = opts.durationMs === 'until-decision';
    const final = !paused && elapsed >= (opts.durationMs as number);
    const live = sampleOf(now, baseline, opts);
    // ccom's own requests only while its users' are too few to judge by.
    if (prober) prober.active = live.canary.requests < analysis.minRequests || (live.stable?.requests ?? Infinity) < analysis.minRequests;
    const probes = probesNow && probeBaseline ? sampleOf(probesNow, probeBaseline, opts) : undefined;
    if (opts.stableSeen && live.stable && live.stable.requests >= analysis.minRequests) opts.stableSeen.window = live.stable;
    const reference = opts.stable ? undefined : opts.stableSeen?.window;
    const verdict = judgeEvidence(live, probes, analysis, now.boundsMs, final, warmingUp, reference);
    if (verdict.kind === 'fail') {
      if (verdict.metric === 'error-rate') throw new CheckFailed(`analysis failed ${opts.label}: ${verdict.message}`);
      // Slower: only if the requests after this moment say so too, and the gap is not closing.
      confirm ??= new LatencyConfirmation(latest, {
        since: (mark) => windowsSince(latest, mark, opts),
        judge: (w) => judgeEvidence(w.live, w.probes, analysis, now.boundsMs, false, false, reference),
        enough: (w) => enough(w.live, analysis.minRequests) || (w.probes !== undefined && enough(w.probes, analysis.minRequests)),
        medianRatio: (w) => medianRatio(enough(w.live, analysis.minRequests) || !w.probes ? w.live : w.probes, now.boundsMs),
      }, { stepUp: opts.stepUp });
      // The step goes on past its end until a window decides.
      const confirmed = confirm.check(latest);
      if (confirmed.kind === 'fail') throw new CheckFailed(`analysis failed ${opts.label}: ${confirmed.message}`);
      if (confirmed.kind === 'cleared') {
        if (final && !paused) return `${confirmed.message}; an earlier slow window did not persist`;
        confirm = undefined;
      } else if (confirmed.kind === 'short' && final) {
        const ended = wait.tick(`a latency regression waits for its second window (${verdict.message})`);
        if (ended) return ended;
      }
      continue;
    }
    confirm = undefined;
    if (warmingUp && elapsed >= warmupMs) {
      // The windows restart here; this tick's decision (promote) is still acted on below.
      warmingUp = false;
      baseline = now;
      probeBaseline = probesNow;
    }
    if (paused) {
      if (decision?.command === 'promote') return `promoted by ${decision.by}; ${verdict.message}`;
      continue;
    }
    if (verdict.kind === 'pass') return verdict.message;
    if (verdict.kind === 'inconclusive') {
      if (decision?.command === 'promote') return `promoted by ${decision.by} while waiting for evidence; ${verdict.message}`;
      const ended = wait.tick(verdict.message);
      if (ended) return ended;
    }
  }
}

/**
 * A step short of evidence waits up to `analysis.inconclusiveTimeout` for more, telling its
 * counts as they grow; `ccom promote` ends the wait, `ccom abort` rolls back. Then
 * `analysis.onInconclusive` decides: returns the step's message (promote) or throws.
 */
function evidenceWait(ctx: StrategyContext, opts: ObserveOptions) {
  const { analysis } = ctx.config;
  let since: number | undefined;
  let reported = 0;
  return {
    tick(message: string): string | undefined {
      const now = Date.now();
      since ??= now;
      const leftMs = analysis.inconclusiveTimeoutMs - (now - since);
      if (leftMs <= 0) {
        if (analysis.onInconclusive === 'promote') {
          ctx.emit({ type: 'info', message: `still inconclusive ${opts.label}; continuing as analysis.onInconclusive: promote says` });
          return `inconclusive (${message}), continued by configuration`;
        }
        throw new CheckFailed(`analysis inconclusive ${opts.label}: ${message} within ${Math.round(analysis.inconclusiveTimeoutMs / 1000)}s (analysis.onInconclusive: rollback)`);
      }
      if (now - reported >= WAIT_REPORT_MS) {
        reported = now;
        const then = analysis.onInconclusive === 'promote' ? 'continue' : 'roll back';
        const why = `not enough traffic to judge the new release ${opts.label} (${message}); up to ${Math.ceil(leftMs / 1000)}s more, then ${then} (\`ccom promote\` continues now, \`ccom abort\` rolls back)`;
        ctx.control?.waitFor(why);
        ctx.emit({ type: 'waiting', why });
      }
      return undefined;
    },
  };
}

function restarted(now: MetricsSnapshot, last: MetricsSnapshot): boolean {
  return Object.entries(last.releases).some(([id, m]) => (now.releases[id]?.requests ?? m.requests) < m.requests);
}

interface Marks {
  live: MetricsSnapshot;
  probes: MetricsSnapshot | undefined;
}

interface Windows {
  live: Sample;
  probes: Sample | undefined;
}

function windowsSince(latest: Marks, mark: Marks, opts: ObserveOptions): Windows {
  return { live: sampleOf(latest.live, mark.live, opts), probes: latest.probes && mark.probes ? sampleOf(latest.probes, mark.probes, opts) : undefined };
}

/** The new release's median latency over the stable one's (its own median without one). */
function medianRatio(window: Sample, boundsMs: number[]): number {
  const canary = quantileMs(window.canary.latency, boundsMs, 0.5) ?? 0;
  const stable = window.stable ? (quantileMs(window.stable.latency, boundsMs, 0.5) ?? 0) : 0;
  return stable > 0 ? canary / stable : canary;
}

function enough(sample: Sample, min: number): boolean {
  return sample.canary.requests >= min && (sample.stable?.requests ?? min) >= min;
}

function sampleOf(now: MetricsSnapshot, baseline: MetricsSnapshot, opts: ObserveOptions): Sample {
  return { canary: windowOf(now, baseline, opts.release), stable: opts.stable ? windowOf(now, baseline, opts.stable) : undefined };
}

/** An instance of the new release that crashed (and was restarted) fails it at once. */
/** Throws CheckFailed when an instance of the release crashed, restarted, left the pool or disappeared. */
export async function checkInstances(ctx: StrategyContext, opts: Pick<ObserveOptions, 'release' | 'instanceIds' | 'label'>): Promise<void> {
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
