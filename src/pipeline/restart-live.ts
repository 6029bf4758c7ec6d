import { loadConfig } from '../config/load.js';
import { UserError, ExitCode } from '../errors.js';
import { Store } from '../store/index.js';
import { createTarget } from '../targets/index.js';
import type { InstanceInfo } from '../targets/types.js';
import { Blocked } from './failures.js';
import { newDeploymentId, whoAmI } from './ids.js';
import { acquireDeployLock } from './lock.js';
import { reachableUrl } from './reachable-url.js';
import { restartSpec } from './restart-env.js';

export interface RestartReport {
  release: string;
  url: string | null;
  /** Old instance id → the new one that replaced it. */
  replaced: Array<{ old: string; new: string; durationMs: number }>;
}

/**
 * `ccom restart`: the live release's instances replaced one at a time, with no gap. For each, a
 * new instance starts beside it (with the environment computed again, see restart-env.ts), must
 * pass its health check, joins the pool, and only then is the old one drained and stopped: the
 * release always has at least as many healthy instances as before. A new instance that fails to
 * boot is stopped and the restart ends there (exit 1); the old instances keep serving.
 */
export async function restartLive(appDir: string, say: (line: string) => void): Promise<RestartReport> {
  const { config } = loadConfig(appDir);
  const store = Store.open(appDir);
  const lock = acquireDeployLock(store, { who: whoAmI(), deploymentId: newDeploymentId(), command: 'ccom restart' }, (e) => e.type === 'info' && say(e.message));
  try {
    lock.check();
    const live = store.liveRelease();
    if (!live) {
      const stopped = store.rollbackCandidates()[0];
      throw new Blocked('nothing to restart: no release is live', { fix: stopped ? `\`ccom up\` starts release ${stopped.id} again` : 'deploy first: `ccom deploy`' });
    }
    const target = createTarget(appDir, config);
    const status = await target.peek();
    const running = status?.instances.filter((i) => i.release === live.id && i.state !== 'stopping') ?? [];
    if (!status || running.length === 0) throw new Blocked(`nothing to restart: release ${live.id} is live but none of its instances runs`, { fix: '`ccom up` starts it' });
    const { spec, config: releaseConfig } = restartSpec(appDir, live);
    const replaced: RestartReport['replaced'] = [];
    for (const [n, old] of running.entries()) {
      const began = Date.now();
      let fresh: InstanceInfo | undefined;
      try {
        [fresh] = await target.startInstances(spec, 1);
      } catch (err) {
        const done = replaced.length ? `${replaced.length} of ${running.length} instance(s) were restarted; ` : '';
        throw new UserError(`restart stopped: a new instance of ${live.id} did not come up (${(err as Error).message}); ${done}the others still run as before`, {
          exitCode: ExitCode.RolledBack,
          detail: (err as UserError).detail,
          fix: 'read the output above and `ccom logs --all`; fix the cause (an env change? `ccom env ls`), then run `ccom restart` again',
        });
      }
      if (!fresh) break;
      await target.stopInstances([old.id], releaseConfig.drainTimeoutMs);
      replaced.push({ old: old.id, new: fresh.id, durationMs: Date.now() - began });
      say(`✔ restart ${n + 1}/${running.length} - ${old.id} replaced by ${fresh.id} (healthy, pid ${fresh.pid}) in ${((Date.now() - began) / 1000).toFixed(1)}s`);
    }
    store.audit(whoAmI(), 'restart', { release: live.id, instances: replaced.map((r) => r.new) });
    return { release: live.id, url: reachableUrl(status.url), replaced };
  } finally {
    lock.release();
    store.close();
  }
}
