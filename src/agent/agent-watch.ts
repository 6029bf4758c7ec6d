import { LATENCY_BOUNDS_MS } from '../proxy/router.js';
import type { AgentCore } from './core.js';
import { PostSwitchWatch, type WatchState } from './post-switch-watch.js';
import type { AgentStateFile } from './state-file.js';
import { recordWatchRollback } from './watch-record.js';

/** The agent's post-switch watch, wired to its router, supervisor, state file and history. */
export function agentWatch(core: AgentCore, state: AgentStateFile): PostSwitchWatch {
  const log = core.log;
  return new PostSwitchWatch({
    counters: (release) => ({ ...core.router.counters(release), latency: core.router.latency(release) }),
    boundsMs: [...LATENCY_BOUNDS_MS],
    instances: () => core.supervisor.list().map((i) => i.info()),
    rollBack: (watch, reason) => rollBack(core, watch, reason),
    passed: ({ handoff }) => void core.stopInstances(handoff.previousIds, handoff.drainTimeoutMs).catch((err: Error) => log(`could not stop the previous release's instances after the watch: ${err.message}`)),
    persist: (watch, lastWatch) => state.update({ watch, lastWatch }),
    log,
  }, state.get().lastWatch);
}

/** Throws when the previous release cannot take the traffic back (the watch then ends as failed). */
function rollBack(core: AgentCore, { handoff }: WatchState, reason: string): string {
  const { previous, release, releaseIds, drainTimeoutMs } = handoff;
  if (!core.supervisor.list().some((i) => i.spec.id === previous && i.info().healthy)) {
    throw new Error(`release ${previous} has no healthy instance, so traffic stays on ${release}`);
  }
  core.setWeights({ [previous]: 100 });
  core.stopInstances(releaseIds, drainTimeoutMs).catch((err: Error) => core.log(`could not stop the instances of ${release}: ${err.message}`));
  recordWatchRollback(core.appDir, handoff, reason).catch((err: Error) => core.log(`could not record the watch's rollback: ${err.message}`));
  return `${reason}: traffic moved back to ${previous}; the instances of ${release} are stopped`;
}
