import { judge } from '../analysis/judge.js';
import { windowOf, type MetricsSnapshot, type ReleaseMetrics } from '../analysis/metrics.js';
import type { InstanceInfo, WatchHandoff, WatchReport, WatchStatusName } from '../targets/local/wire.js';

/** How often the watch judges: the same cadence as a canary's analysis. */
const TICK_MS = 100;

/** A running watch as kept in agent-state.json, so a restarted agent resumes it. */
export interface WatchState {
  handoff: WatchHandoff;
  startedAt: number;
  until: number;
  /** The new release's counters when the watch began (or its warm-up ended): the window starts there. */
  baseline: ReleaseMetrics;
  /** The previous release's counters at the handoff: what it served while it had the traffic (the p99 limit's reference). */
  stable: ReleaseMetrics | null;
  /** Latency is judged once this is past (errors at once), as in a canary step. */
  warmUntil: number;
}

export interface WatchHooks {
  /** Cumulative counters of one release (zeros after an agent restart). */
  counters(release: string): ReleaseMetrics;
  boundsMs: number[];
  instances(): InstanceInfo[];
  /** A regression: traffic back to the previous release, new instances stopped, history, alert. */
  rollBack(state: WatchState, reason: string): string;
  /** A good end: the previous release's warm instances drain and stop. */
  passed(state: WatchState): void;
  persist(watch: WatchState | null, last: WatchReport | null): void;
  log(message: string): void;
}

/**
 * The watch after a switch: the agent judges the new release's live traffic with the canary's
 * judge against the previous release, which stays warm at weight 0, and moves traffic back at
 * once on a regression. It runs in the agent, so it keeps going after the CLI has returned.
 */
export class PostSwitchWatch {
  private state: WatchState | null = null;
  private last: WatchReport | null;
  private timer: NodeJS.Timeout | undefined;
  /** Outcomes since this agent started, for Prometheus. */
  readonly outcomes: Record<string, number> = {};

  constructor(
    private readonly hooks: WatchHooks,
    last: WatchReport | null,
  ) {
    this.last = last;
  }

  start(handoff: WatchHandoff, stable: ReleaseMetrics | null): WatchReport {
    const now = Date.now();
    const state: WatchState = { handoff, startedAt: now, until: now + handoff.durationMs, baseline: this.hooks.counters(handoff.release), stable, warmUntil: now + Math.min(handoff.analysis.warmupMs, handoff.durationMs / 4) };
    this.resume(state);
    this.hooks.log(`watching release ${handoff.release} against ${handoff.previous} until ${new Date(state.until).toISOString()}`);
    return this.report() as WatchReport;
  }

  /** After an agent restart: counters restarted from zero, which `windowOf` counts from. */
  resume(state: WatchState): void {
    this.state = state;
    this.hooks.persist(state, this.last);
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  /** A new deploy or rollback takes over: the watch ends without moving traffic or stopping anything. */
  end(by: string): void {
    if (this.state) this.finish('ended', `ended by ${by} before its end`);
  }

  report(): WatchReport | null {
    const s = this.state;
    if (!s) return this.last;
    return { deploymentId: s.handoff.deploymentId, release: s.handoff.release, previous: s.handoff.previous, until: new Date(s.until).toISOString(), status: 'running' };
  }

  private tick(): void {
    const state = this.state;
    if (!state) return;
    const { handoff } = state;
    const crashed = this.crashedInstance(state);
    if (crashed) return this.regression(state, crashed);
    const now = Date.now();
    const current = this.hooks.counters(handoff.release);
    const window = windowOf(snapshot(current, handoff.release), snapshot(state.baseline, handoff.release), handoff.release);
    const final = now >= state.until;
    const warmingUp = now < state.warmUntil;
    // The previous release serves nothing now: its requests from before the switch came under
    // other load, so they are only the reference for the absolute p99 limit, never a latency
    // ratio (which took good releases back whenever the load after the switch was heavier).
    const verdict = judge(window, undefined, handoff.analysis, this.hooks.boundsMs, final, { warmingUp, ...(state.stable ? { reference: state.stable } : {}) });
    if (verdict.kind === 'fail') return this.regression(state, `the watch after the switch found a regression: ${verdict.message}`);
    if (!warmingUp && state.warmUntil > 0) {
      // Warm-up over: the window restarts so latency is judged on the warm process only.
      state.baseline = current;
      state.warmUntil = 0;
      this.hooks.persist(state, this.last);
    }
    if (!final) return;
    const how = verdict.kind === 'pass' ? verdict.message : `no regression seen (${verdict.message})`;
    this.hooks.passed(state);
    this.finish('passed', `release ${handoff.release} passed the watch: ${how}`);
  }

  private crashedInstance(state: WatchState): string | undefined {
    const instances = this.hooks.instances();
    for (const id of state.handoff.releaseIds) {
      const i = instances.find((x) => x.id === id);
      if (!i || i.restarts > 0 || i.state === 'restarting' || i.state === 'unhealthy' || i.state === 'failed') {
        return `instance ${id} of release ${state.handoff.release} ${i ? `crashed during the watch (state ${i.state}, ${i.restarts} restart(s))` : 'disappeared during the watch'}`;
      }
    }
    return undefined;
  }

  private regression(state: WatchState, reason: string): void {
    // Finished first: a rollback that throws must not be retried every 100 ms.
    let outcome: WatchStatusName = 'rolled_back';
    let said = reason;
    try {
      said = this.hooks.rollBack(state, reason);
    } catch (err) {
      outcome = 'failed';
      said = `${reason}; moving traffic back failed: ${(err as Error).message}`;
    }
    this.finish(outcome, said);
  }

  private finish(status: WatchStatusName, reason: string): void {
    const s = this.state as WatchState;
    this.state = null;
    clearInterval(this.timer);
    this.timer = undefined;
    this.outcomes[status] = (this.outcomes[status] ?? 0) + 1;
    this.last = { deploymentId: s.handoff.deploymentId, release: s.handoff.release, previous: s.handoff.previous, until: new Date(s.until).toISOString(), status, reason, endedAt: new Date().toISOString() };
    this.hooks.persist(null, this.last);
    this.hooks.log(reason);
  }
}

function snapshot(metrics: ReleaseMetrics, release: string): MetricsSnapshot {
  return { at: 0, boundsMs: [], releases: { [release]: metrics } };
}
