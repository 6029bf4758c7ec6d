import { basename } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config, StrategyName } from '../config/types.js';
import { ExitCode } from '../errors.js';
import { Store } from '../store/index.js';
import { resolveStrategy } from '../strategies/index.js';
import { createTarget } from '../targets/index.js';
import type { TrafficGuard, WatchReport } from '../targets/types.js';
import { releasesDir } from '../app-state.js';
import { newDeploymentId, newReleaseId, whoAmI } from './ids.js';
import { acquireDeployLock } from './lock.js';
import { outcomeOf, type Outcome } from './outcome.js';
import { pruneReleases } from './prune.js';
import { gitInfo } from './git-info.js';
import { recordOutcome } from './record.js';
import { connectOptions, specFor, specForStored } from './release-spec.js';
import { storeControl } from './control.js';
import { interruptSteps } from './interrupt.js';
import { cancelledOutcome } from './cancelled.js';
import { dataAfterRollback, runMigrations } from './migrate.js';
import { reachableUrl } from './reachable-url.js';
import { servingRelease } from './serving-release.js';
import { Steps } from './steps.js';
import type { DeploymentDoc, Emit } from './types.js';
import { removeRelease, validate } from './validate.js';
import { throwIfWatchRolledBack, waitForWatch, watchHandoff } from './watch.js';

export interface DeployOptions {
  appDir: string;
  strategy?: StrategyName;
  dryRun: boolean;
  /** Also wait for the post-switch watch's end (exit 1 when it rolled back). */
  wait?: boolean;
  emit: Emit;
}

export interface DeployResult {
  doc: DeploymentDoc;
  outcome: Outcome;
}

/** The deployment process (SPEC "The job"): validate, execute, verify (rolling back), report. */
export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const startedAt = new Date();
  const id = newDeploymentId();
  const kind = opts.dryRun ? 'dry-run' : 'deploy';
  let config: Config;
  try {
    config = loadConfig(opts.appDir).config;
  } catch (err) {
    // No "Launching" line first: nothing is launched when there is no config to launch from.
    const strategy = opts.strategy ?? 'blue-green';
    return finish({ id, app: basename(opts.appDir), kind, strategy, startedAt, release: null, previous: null, url: null, steps: [] }, outcomeOf(err, false), opts.emit);
  }
  const strategyName = opts.strategy ?? config.strategy;
  opts.emit({ type: 'start', app: config.app, strategy: strategyName, kind });
  const store = Store.open(opts.appDir);
  const who = whoAmI();
  // Locked before reading what is live: a rollback or `down` finishing meanwhile changes it.
  const unlock = acquireDeployLock(store, { who, deploymentId: id, command: `ccom ${kind}` }, opts.emit);
  const releaseId = newReleaseId();
  const live = store.liveRelease();
  const base = { id, app: config.app, kind, strategy: strategyName, startedAt, release: releaseId, previous: live?.id ?? null } as const;
  const steps = new Steps(opts.emit, opts.dryRun ? undefined : store, id);
  const target = createTarget(opts.appDir, config);
  if (!opts.dryRun) {
    store.insertDeployment({ ...rowOf(base, who), status: 'running', reason: null, url: null, finishedAt: null, durationMs: null });
  }
  let changed = false;
  let outcome: Outcome = { status: 'succeeded', exitCode: ExitCode.Succeeded };
  let watchReport: WatchReport | undefined;
  /** The release this deploy moves traffic from: what was live, or what serves once the last watch ended. */
  let previousId = base.previous;
  let flagsDiff: DeploymentDoc['flags'];
  const stopInterrupts = interruptSteps(steps, opts.emit);
  try {
    unlock.check();
    const strategy = resolveStrategy(strategyName);
    const validated = await validate({ appDir: opts.appDir, config, releaseId, releasesDir: releasesDir(opts.appDir), steps, target });
    flagsDiff = validated.flags;
    if (opts.dryRun) {
      removeRelease(validated.dir);
      opts.emit({ type: 'info', message: `plan: ${strategyName} — start ${config.instances} instance(s) of the new release, check them, then move traffic${live ? ` from ${live.id}` : ''}` });
    } else {
      store.insertRelease({
        id: releaseId,
        createdAt: startedAt.toISOString(),
        status: 'pending',
        strategy: strategyName,
        digest: validated.digest,
        deployedBy: who,
        dir: validated.dir,
        startCommand: config.start,
        configJson: JSON.stringify(config),
        git: gitInfo(opts.appDir),
      });
      await steps.must('agent', async (step) => {
        await target.connect(connectOptions(config));
        step.message(`proxy on ${reachableUrl(target.publicUrl())}`);
      });
      // A watch of the last deploy ends here: its warm instances are this deploy's old set.
      await target.endWatch();
      const before = await target.status();
      const running = before.instances;
      const fallback = servingWeights(before.weights);
      // The last deploy's watch may have moved traffic back while this one validated: the
      // stable release is the one serving now, or a rollback would move traffic to stopped instances.
      const stable = servingRelease(store, live, before);
      if (stable && stable.id !== live?.id) opts.emit({ type: 'info', message: `${stable.id} serves now (the watch of the last deploy moved traffic back to it): it is the stable release of this deploy` });
      const previous = stable ? { spec: specForStored(opts.appDir, stable).spec } : null;
      previousId = stable?.id ?? null;
      changed = true;
      const migrationCtx = { appDir: opts.appDir, config, releaseDir: validated.dir, releaseId, deploymentId: id, env: validated.env, steps, store, emit: opts.emit };
      const migration = await runMigrations(migrationCtx);
      const url = reachableUrl(target.publicUrl());
      const watch = watchHandoff(target, { deploymentId: id, release: releaseId, previous: stable?.id ?? null, config, alert: trafficGuard({ ...base, previous: previousId }, config, {}, url).alert });
      try {
        if (fallback) await target.guardTraffic(trafficGuard({ ...base, previous: previousId }, config, fallback, url));
        await strategy.run({
          target,
          config,
          spec: specFor(releaseId, validated.dir, config, validated.env, validated.envFile),
          previous,
          running,
          steps,
          emit: opts.emit,
          control: storeControl(store, id),
          ...(watch.handOff ? { handOffWatch: watch.handOff } : {}),
        });
      } catch (err) {
        throw await dataAfterRollback(migrationCtx, migration, err);
      } finally {
        if (fallback) await target.guardTraffic(null).catch(() => undefined);
      }
      store.markLive(releaseId);
      pruneReleases(store, config.releases.keep);
      watchReport = watch.report();
      if (opts.wait && watchReport) {
        watchReport = await waitForWatch(target, steps, watchReport);
        throwIfWatchRolledBack(store, watchReport);
      }
    }
  } catch (err) {
    outcome = outcomeOf(err, changed);
    if (steps.interrupted) outcome = cancelledOutcome(outcome, steps.interrupted, previousId);
    if (!opts.dryRun && changed) store.setReleaseStatus(releaseId, outcome.status === 'rolled_back' ? 'rolled_back' : 'failed');
  } finally {
    stopInterrupts();
    unlock.release();
  }
  const watchDoc = watchReport && { until: watchReport.until, status: watchReport.status, ...(watchReport.reason ? { reason: watchReport.reason } : {}) };
  const result = finish({ ...base, previous: previousId, url: reachableUrl(target.publicUrl()), steps: steps.records, ...(flagsDiff ? { flags: flagsDiff } : {}), ...(watchDoc ? { watch: watchDoc } : {}) }, outcome, opts.emit);
  if (!opts.dryRun) await recordOutcome(store, who, result.doc, config.alerts, opts.emit);
  store.close();
  return result;
}

/** What the target does should this process die while traffic moves: restore, record, alert. */
function trafficGuard(
  base: { id: string; app: string; kind: string; strategy: string; release: string; previous: string | null },
  config: Config, fallback: Record<string, number>, url: string | null,
): TrafficGuard {
  const event = { event: 'deployment' as const, app: base.app, release: base.release, previous: base.previous, deployment: base.id, kind: base.kind, strategy: base.strategy, url };
  return { fallback, deploymentId: base.id, release: base.release, ...(config.alerts.webhook ? { alert: { alerts: config.alerts, event } } : {}) };
}

/** The weights of the releases serving now, or undefined when nothing serves (a first deploy). */
/**
 * The release the agent serves with the most weight and a healthy instance, when the store
 * knows it; otherwise what the store calls live.
 */
function servingWeights(weights: Record<string, number>): Record<string, number> | undefined {
  const serving = Object.entries(weights).filter(([, weight]) => weight > 0);
  return serving.length > 0 ? Object.fromEntries(serving) : undefined;
}

type DocBase = Omit<DeploymentDoc, 'status' | 'reason' | 'fix' | 'finishedAt' | 'durationMs' | 'startedAt'> & { startedAt: Date };

function rowOf(base: { id: string; app: string; kind: string; strategy: string; startedAt: Date; release: string | null; previous: string | null }, who: string) {
  return {
    id: base.id,
    app: base.app,
    release: base.release,
    previous: base.previous,
    strategy: base.strategy,
    startedAt: base.startedAt.toISOString(),
    deployedBy: who,
    kind: (base.kind === 'rollback' ? 'rollback' : 'deploy') as 'deploy' | 'rollback',
  };
}

/** Builds the JSON document, tells the reporter, and returns both. */
export function finish(base: DocBase, outcome: Outcome, emit: Emit): DeployResult {
  const finishedAt = new Date();
  const doc: DeploymentDoc = {
    ...base,
    startedAt: base.startedAt.toISOString(),
    status: outcome.status,
    ...(outcome.reason ? { reason: outcome.reason } : {}),
    ...(outcome.fix ? { fix: outcome.fix } : {}),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - base.startedAt.getTime(),
  };
  emit({ type: 'done', deployment: doc, detail: outcome.detail });
  return { doc, outcome };
}

export { rowOf };
