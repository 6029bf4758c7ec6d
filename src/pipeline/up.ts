import { loadConfig } from '../config/load.js';
import { ExitCode, UserError } from '../errors.js';
import { Store } from '../store/index.js';
import { createTarget } from '../targets/index.js';
import type { Target, TargetStatus } from '../targets/types.js';
import type { DeployResult } from './deploy.js';
import { Blocked } from './failures.js';
import { newDeploymentId, whoAmI } from './ids.js';
import { acquireDeployLock } from './lock.js';
import { reachableUrl } from './reachable-url.js';
import { rollback } from './rollback.js';
import type { Emit } from './types.js';

export interface UpReport {
  app: string;
  release: string;
  url: string | null;
  /** already serving | agent started (the release was live: a reboot, a guardian that gave up) | started (after `ccom down`) */
  how: 'already serving' | 'agent started' | 'started' | 'left stopped';
  /** The history row of a start after `down` (it runs as a checked rollback to that release). */
  deployment?: DeployResult['doc'];
  exitCode: number;
}

/**
 * `ccom up`: the app serves again, whatever stopped it. A live release whose agent is gone (a
 * reboot) gets its agent back, which starts its instances with their saved environment. After
 * `ccom down` no release is live: the one `down` stopped (the most recently live) is started
 * the way `ccom rollback` does it: files verified, instances started and health-checked,
 * smoke-tested through the preview route, then traffic.
 */
export async function bringUp(appDir: string, emit: Emit, opts: { onlyLive?: boolean } = {}): Promise<UpReport> {
  const { config } = loadConfig(appDir);
  const store = Store.open(appDir);
  const live = store.liveRelease();
  const stopped = store.rollbackCandidates()[0];
  const target = createTarget(appDir, config);
  if (!live && opts.onlyLive && stopped) {
    store.close();
    emit({ type: 'info', message: `${config.app} was stopped with \`ccom down\`: left stopped` });
    return { app: config.app, release: stopped.id, url: null, how: 'left stopped', exitCode: ExitCode.Succeeded };
  }
  if (!live) {
    store.close();
    if (!stopped) throw new Blocked(`nothing to bring up: ${config.app} has no release yet`, { fix: 'deploy first: `ccom deploy`' });
    const result = await rollback({ appDir, release: stopped.id, emit });
    return { app: config.app, release: stopped.id, url: result.doc.url, how: 'started', deployment: result.doc, exitCode: result.outcome.exitCode };
  }
  // Taken like a deploy's: the agent must not be started beside a deploy or `down` under way.
  const lock = acquireDeployLock(store, { who: whoAmI(), deploymentId: newDeploymentId(), command: 'ccom up' }, emit);
  try {
    lock.check();
    const running = await target.peek();
    if (running && servesHealthy(running, live.id)) return { app: config.app, release: live.id, url: reachableUrl(running.url), how: 'already serving', exitCode: ExitCode.Succeeded };
    emit({ type: 'info', message: `release ${live.id} is live but ${running ? 'not all its instances are healthy' : 'nothing serves it'}: starting ${running ? 'them' : 'its agent'}` });
    await target.attach();
    const status = await waitServing(target, live.id, config.health.timeoutMs + 5_000);
    store.audit(whoAmI(), 'up', { release: live.id });
    return { app: config.app, release: live.id, url: reachableUrl(status.url), how: 'agent started', exitCode: ExitCode.Succeeded };
  } finally {
    lock.release();
    store.close();
  }
}

function servesHealthy(status: TargetStatus, release: string): boolean {
  const own = status.instances.filter((i) => i.release === release);
  return (status.weights[release] ?? 0) > 0 && own.length > 0 && own.every((i) => i.healthy);
}

/** The agent restarts instances that were gone in the background: wait until they answer. */
async function waitServing(target: Target, release: string, timeoutMs: number): Promise<TargetStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await target.status();
    if (servesHealthy(status, release)) return status;
    if (Date.now() > deadline) {
      const states = status.instances.filter((i) => i.release === release).map((i) => `${i.id} ${i.state}${i.problem ? ` (${i.problem})` : ''}`);
      throw new UserError(`release ${release} did not come back within ${Math.round(timeoutMs / 1000)}s: ${states.join(', ') || 'no instance'}`, {
        fix: 'see `ccom status` and `ccom logs --all`; `ccom rollback` brings back an earlier release',
      });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
