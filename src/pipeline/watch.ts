import type { Config } from '../config/types.js';
import type { Store } from '../store/index.js';
import type { Target, TrafficGuard, WatchReport } from '../targets/types.js';
import { RollbackFailed, RolledBack } from './failures.js';
import type { Steps } from './steps.js';

/** How often `--wait` asks the agent whether the watch ended. */
const POLL_MS = 200;

export interface WatchPlan {
  deploymentId: string;
  release: string;
  previous: string | null;
  config: Config;
  alert: TrafficGuard['alert'];
}

/** The deploy's side of the post-switch watch: the handoff a strategy calls, and the report it got. */
export function watchHandoff(target: Target, plan: WatchPlan) {
  let report: WatchReport | undefined;
  const { previous, config } = plan;
  const handOff =
    previous && config.analysis.watchMs > 0
      ? async (ids: { releaseIds: string[]; previousIds: string[] }): Promise<string> => {
          report = await target.watch({
            deploymentId: plan.deploymentId, release: plan.release, previous, ...ids,
            analysis: config.analysis, durationMs: config.analysis.watchMs, drainTimeoutMs: config.drainTimeoutMs,
            ...(plan.alert ? { alert: plan.alert } : {}),
          });
          return `the agent watches the live traffic of ${plan.release} until ${report.until}; ${ids.previousIds.length} instance(s) of ${previous} stay warm to move back to`;
        }
      : undefined;
  return { handOff, report: () => report };
}

/**
 * `ccom deploy --wait`: waits for the watch's end. A rollback by the watch ends the deploy as
 * rolled back (exit 1), the previous release live again in history. Ctrl-C stops waiting
 * only: the agent keeps watching.
 */
export async function waitForWatch(target: Target, steps: Steps, started: WatchReport): Promise<WatchReport> {
  let last = started;
  await steps.run('watch:wait', async (step) => {
    while (!steps.interrupted) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const now = await target.watchStatus();
      last = now && now.deploymentId === started.deploymentId ? now : { ...started, status: 'ended', reason: 'the watch is gone (the agent was stopped)' };
      if (last.status !== 'running') break;
    }
    step.message(last.status === 'running' ? `stopped waiting (${steps.interrupted}); the agent keeps watching until ${last.until}` : (last.reason ?? last.status));
  }, { always: true });
  return last;
}

/** A watch that moved traffic back ends the deploy as rolled back, the previous release live again. */
export function throwIfWatchRolledBack(store: Store, last: WatchReport): void {
  if (last.status === 'rolled_back') {
    store.markLive(last.previous);
    throw new RolledBack(last.reason ?? 'the watch after the switch moved traffic back', {
      fix: `read the new release's output with \`ccom logs --release ${last.release}\`, fix the cause, then deploy again`,
    });
  }
  if (last.status === 'failed') {
    throw new RollbackFailed(last.reason ?? 'the watch found a regression and could not move traffic back', { fix: 'run `ccom status` to see what runs where, then `ccom rollback` or `ccom deploy` again' });
  }
}
