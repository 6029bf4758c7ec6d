import { sendFlagAlert } from '../../alerts/webhook.js';
import { judge, type Verdict } from '../../analysis/judge.js';
import { quantileMs, windowOf, type MetricsSnapshot, type ReleaseMetrics } from '../../analysis/metrics.js';
import { parseDuration } from '../../config/duration.js';
import { ExitCode, UserError } from '../../errors.js';
import { formatPercent, parsePercent, type FlagOverride } from '../../flags/overrides.js';
import { LatencyConfirmation } from '../../strategies/latency-confirm.js';
import { Store } from '../../store/index.js';
import type { CommandContext } from '../run.js';
import { changeLine, flagsAgent, type FlagsAgent } from './flags-agent.js';

const TICK_MS = 100;

/**
 * `ccom flags rollout NAME --steps 10,50,100 --interval 5m`: the flag moves like a canary. The
 * proxy attributes each request to the variant its x-ccom-bucket is served, and the canary's
 * judge compares requests served with the flag on against those served with it off (errors at
 * once, latency confirmed over windows as for a canary). A regression turns the flag off at
 * once (the kill switch), records why, alerts, and exits 1. `ccom flags promote|abort NAME`
 * from another terminal ends a step's wait or turns the flag off.
 */
export async function guardedRollout(ctx: CommandContext, name: string): Promise<number> {
  const steps = parseSteps(String(ctx.opts.steps));
  const intervalMs = ctx.opts.interval === undefined ? 30_000 : parseDuration(String(ctx.opts.interval));
  if (intervalMs === undefined || intervalMs < 100) throw new UserError(`not an interval: ${JSON.stringify(ctx.opts.interval)}`, { fix: 'give a duration of at least 100ms, like 30s or 5m' });
  const agent = await flagsAgent(ctx.appDir);
  const first = await agent.change(name, { kind: 'rollout', percent: steps[0] as number });
  const override = first.new?.override as Extract<FlagOverride, { kind: 'rollout' }>;
  await agent.guard({ flag: name, pid: process.pid, on: override.on, off: override.off });
  ctx.say(`🚦 guarded rollout of ${name}: ${steps.map(formatPercent).join(' → ')}, ${formatInterval(intervalMs)} each; judged on ${override.on} vs ${override.off}`);
  const done: { percent: number; verdict: string }[] = [];
  try {
    for (let i = 0; i < steps.length; i++) {
      const percent = steps[i] as number;
      if (i > 0) ctx.say(`✔ ${changeLine(await agent.change(name, { kind: 'rollout', percent }))}`);
      const outcome = await judgeStep(agent, name, percent, intervalMs, i > 0);
      if (outcome.kind === 'fail' || outcome.kind === 'abort') {
        const reason = outcome.kind === 'abort' ? `aborted at ${formatPercent(percent)} by ccom flags abort` : `analysis failed at ${formatPercent(percent)}: ${outcome.message}`;
        return await kill(ctx, agent, name, override.off, reason, [...done, { percent, verdict: reason }]);
      }
      done.push({ percent, verdict: outcome.message });
      ctx.say(`✔ ${name} at ${formatPercent(percent)}: ${outcome.message}`);
      if (outcome.kind === 'promote') break;
    }
    const change = await agent.change(name, { kind: 'set', value: override.on }, 'guarded rollout finished');
    ctx.say(`🎉 ${name} is ${override.on} for everyone`);
    ctx.result({ flag: name, status: 'succeeded', steps: done, change }, override.on);
    return 0;
  } finally {
    await agent.guard(null).catch(() => undefined);
  }
}

type StepOutcome = { kind: 'pass' | 'promote'; message: string } | { kind: 'fail'; message: string } | { kind: 'abort' };

/** One step: the judge every 100 ms over the step's requests, until the interval ends or the evidence is clear. */
async function judgeStep(agent: FlagsAgent, name: string, percent: number, intervalMs: number, stepUp: boolean): Promise<StepOutcome> {
  const analysis = agent.config.analysis;
  const baseline = await agent.metrics();
  const startedAt = Date.now();
  let confirm: LatencyConfirmation<MetricsSnapshot, Window> | undefined;
  let last: Verdict | undefined;
  let latest = baseline;
  for (;;) {
    await new Promise((r) => setTimeout(r, TICK_MS));
    const guard = (await agent.list()).guard;
    if (guard?.decision === 'abort') return { kind: 'abort' };
    const now = await agent.metrics();
    latest = now;
    const window = windowBetween(now, baseline);
    const ended = Date.now() - startedAt >= intervalMs;
    // At 100% nothing is served off: the absolute limits judge alone.
    const stable = percent >= 100 ? undefined : window.off;
    last = judge(window.on, stable, analysis, now.boundsMs, ended, { warmingUp: Date.now() - startedAt < analysis.warmupMs });
    if (last.kind === 'fail' && last.metric === 'error-rate') return { kind: 'fail', message: last.message };
    if (last.kind === 'fail') {
      confirm ??= new LatencyConfirmation<MetricsSnapshot, Window>(now, {
        since: (mark) => windowBetween(latest, mark),
        judge: (w) => judge(w.on, percent >= 100 ? undefined : w.off, analysis, now.boundsMs, false),
        enough: (w) => w.on.requests >= analysis.minRequests,
        medianRatio: (w) => ratioOfMedians(w, now.boundsMs),
      }, { stepUp });
      const confirmed = confirm.check(now);
      if (confirmed.kind === 'fail') return { kind: 'fail', message: confirmed.message };
      if (confirmed.kind === 'cleared') confirm = undefined;
    }
    if (guard?.decision === 'promote') return { kind: 'promote', message: `promoted by ccom flags promote (${last.message})` };
    if (!ended) continue;
    if (last.kind === 'pass') return { kind: 'pass', message: last.message };
    if (last.kind === 'inconclusive' && analysis.onInconclusive === 'promote') return { kind: 'pass', message: `inconclusive, promoted (analysis.onInconclusive): ${last.message}` };
    if (last.kind === 'inconclusive' && Date.now() - startedAt >= intervalMs + analysis.inconclusiveTimeoutMs) return { kind: 'fail', message: `inconclusive: ${last.message}` };
    if (last.kind === 'fail' && confirm === undefined) return { kind: 'fail', message: last.message };
  }
}

interface Window {
  on: ReleaseMetrics;
  off: ReleaseMetrics;
}

function windowBetween(now: MetricsSnapshot, mark: MetricsSnapshot): Window {
  return { on: windowOf(now, mark, 'on'), off: windowOf(now, mark, 'off') };
}

function ratioOfMedians(w: Window, boundsMs: number[]): number {
  const on = quantileMs(w.on.latency, boundsMs, 0.5) ?? 0;
  const off = quantileMs(w.off.latency, boundsMs, 0.5) ?? 0;
  return off > 0 ? on / off : on;
}

/** The kill switch of a regression: off at once, then the record, the alert and exit 1. */
async function kill(ctx: CommandContext, agent: FlagsAgent, name: string, off: string, reason: string, steps: { percent: number; verdict: string }[]): Promise<number> {
  const change = await agent.change(name, { kind: 'set', value: off }, reason);
  ctx.say(`⚡ ${name} turned off - ${reason}`);
  const store = Store.open(ctx.appDir);
  try {
    store.audit('ccom', 'flags.killed', { flag: name, old: change.old, new: change.new, reason });
  } finally {
    store.close();
  }
  const delivery = await sendFlagAlert(agent.config.alerts, { event: 'flag', app: agent.config.app, flag: name, status: 'killed', reason, at: new Date().toISOString() });
  if (delivery && !delivery.delivered) ctx.say(`⚠ could not alert ${agent.config.alerts.webhook}: ${delivery.error ?? 'unknown error'}`);
  ctx.result({ flag: name, status: 'killed', reason, steps, change }, off);
  return ExitCode.RolledBack;
}

function parseSteps(text: string): number[] {
  const steps = text.split(',').map((s) => parsePercent(s));
  if (steps.length === 0 || steps.some((s) => s === undefined || s === 0)) throw new UserError(`not a list of shares: ${JSON.stringify(text)}`, { fix: 'give increasing percentages, like --steps 10,50,100' });
  const list = steps as number[];
  if (list.some((s, i) => i > 0 && s <= (list[i - 1] as number))) throw new UserError(`steps must increase: ${text}`, { fix: 'like --steps 10,50,100' });
  return list.at(-1) === 100 ? list : [...list, 100];
}

function formatInterval(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
