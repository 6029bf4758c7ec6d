import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { ExitCode } from '../errors.js';
import { restoreRelease } from '../gates/restore-release.js';
import { Store } from '../store/index.js';
import { blueGreen } from '../strategies/blue-green.js';
import { createTarget } from '../targets/index.js';
import { finish, rowOf, type DeployResult } from './deploy.js';
import { Blocked } from './failures.js';
import { newDeploymentId, whoAmI } from './ids.js';
import { acquireDeployLock } from './lock.js';
import { outcomeOf, type Outcome } from './outcome.js';
import { recordOutcome } from './record.js';
import { connectOptions, specForStored } from './release-spec.js';
import { interruptSteps } from './interrupt.js';
import { cancelledOutcome } from './cancelled.js';
import { reachableUrl } from './reachable-url.js';
import { servingRelease } from './serving-release.js';
import { Steps } from './steps.js';
import type { Emit } from './types.js';

/**
 * `ccom rollback [RELEASE]`: bring back the previous (or named) release. Instant when its
 * instances still run; otherwise its immutable directory is verified, started and checked
 * before traffic moves, exactly like a blue-green deploy without gates or build.
 */
export async function rollback(opts: { appDir: string; release?: string; emit: Emit }): Promise<DeployResult> {
  const startedAt = new Date();
  const id = newDeploymentId();
  const { config } = loadConfig(opts.appDir);
  const store = Store.open(opts.appDir);
  const who = whoAmI();
  // Locked before reading what is live: a `down` or deploy finishing meanwhile changes it.
  const unlock = acquireDeployLock(store, { who, deploymentId: id, command: 'ccom rollback' }, opts.emit);
  const live = store.liveRelease();
  // Without a name: the newest release that can still serve (pruned ones are skipped, not fatal).
  const candidates = store.rollbackCandidates();
  const wanted = opts.release ? store.getRelease(opts.release) : (candidates.find((r) => existsSync(r.dir)) ?? candidates[0]);
  const base = { id, app: config.app, kind: 'rollback', strategy: 'blue-green', startedAt, release: wanted?.id ?? opts.release ?? null, previous: live?.id ?? null } as const;
  opts.emit({ type: 'start', app: config.app, strategy: 'blue-green', kind: 'rollback' });
  store.insertDeployment({ ...rowOf(base, who), status: 'running', reason: null, url: null, finishedAt: null, durationMs: null });
  const steps = new Steps(opts.emit, store, id);
  const target = createTarget(opts.appDir, config);
  let changed = false;
  let outcome: Outcome = { status: 'succeeded', exitCode: ExitCode.Succeeded };
  const stopInterrupts = interruptSteps(steps, opts.emit);
  try {
    unlock.check();
    if (!wanted) {
      throw new Blocked(opts.release ? `there is no release "${opts.release}"` : 'there is no previous release to roll back to', {
        fix: opts.release ? 'list releases with `ccom releases`' : 'deploy at least twice before rolling back',
      });
    }
    if (wanted.id === live?.id) throw new Blocked(`release ${wanted.id} is already live`, { fix: 'name another release from `ccom releases`' });
    await steps.must('verify', async (step) => {
      if (!existsSync(wanted.dir)) {
        throw new Blocked(`release ${wanted.id} was pruned: its directory ${wanted.dir} is gone`, { fix: 'roll back to a newer release, or deploy that version again' });
      }
      const stored = JSON.parse(wanted.configJson) as { shared?: string[] };
      const sources = [...store.listReleases().filter((r) => r.id !== wanted.id).map((r) => r.dir), opts.appDir];
      const restored = await restoreRelease(wanted.dir, { sources, shared: stored.shared ?? [] });
      if (restored.manifestProblem) throw new Blocked(`release ${wanted.id} cannot be verified: ${restored.manifestProblem}`, { fix: 'deploy that version again to get a clean release' });
      if (restored.unrestorable.length > 0) {
        throw new Blocked(`release ${wanted.id} lost built files that no other copy has: ${restored.unrestorable.slice(0, 3).join(', ')}${restored.unrestorable.length > 3 ? ` and ${restored.unrestorable.length - 3} more` : ''}`, {
          detail: restored.unrestorable.slice(0, 10).map((f) => `changed or missing: ${f}`).join('\n'),
          fix: 'deploy that version again to get a clean release',
        });
      }
      step.message(restoredSummary(wanted.digest, restored.restored.length + restored.modesFixed.length, restored.runtimeFiles));
    });
    const { spec, config: releaseConfig, warning } = specForStored(opts.appDir, wanted);
    if (warning) opts.emit({ type: 'info', message: `⚠ ${warning}` });
    await steps.must('agent', () => target.connect(connectOptions(config)));
    // A running watch ends first; the release it kept warm is reused when it is the one rolled back to.
    await target.endWatch();
    const status = await target.status();
    // The watch may have moved traffic back since `live` was read: that release is the one to return to on failure.
    const serving = servingRelease(store, live, status);
    if (serving && serving.id !== live?.id) {
      if (serving.id === wanted.id) throw new Blocked(`release ${wanted.id} is already live (the watch of the last deploy moved traffic back to it)`, { fix: 'see `ccom status`' });
      opts.emit({ type: 'info', message: `${serving.id} serves now (the watch of the last deploy moved traffic back to it)` });
    }
    changed = true;
    await blueGreen.run({
      target,
      config: { ...releaseConfig, proxy: config.proxy, instances: config.instances },
      spec,
      previous: serving ? { spec: specForStored(opts.appDir, serving).spec } : null,
      running: status.instances,
      steps,
      emit: opts.emit,
    });
    store.markLive(wanted.id);
    // The release taken out of service was healthy: it is 'replaced', not a failed canary's 'rolled_back'.
    if (serving) store.setReleaseStatus(serving.id, 'replaced');
  } catch (err) {
    outcome = outcomeOf(err, changed);
    // Ctrl-C is the user's choice: "cancelled", not a failure to fix.
    if (steps.interrupted) outcome = cancelledOutcome(outcome, steps.interrupted, live?.id ?? null);
  } finally {
    stopInterrupts();
    unlock.release();
  }
  const result = finish({ ...base, url: reachableUrl(target.publicUrl()), steps: steps.records }, outcome, opts.emit);
  await recordOutcome(store, who, result.doc, config.alerts, opts.emit);
  store.close();
  return result;
}

function restoredSummary(digest: string, restored: number, runtimeFiles: number): string {
  const parts = [`files match ${digest.slice(0, 19)}…`];
  if (restored > 0) parts.push(`${restored} built file(s) put back`);
  if (runtimeFiles > 0) parts.push(`${runtimeFiles} file(s) the app wrote at runtime kept`);
  return parts.join('; ');
}
