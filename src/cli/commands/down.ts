import { loadConfig } from '../../config/load.js';
import { Store } from '../../store/index.js';
import { newDeploymentId, whoAmI } from '../../pipeline/ids.js';
import { acquireDeployLock } from '../../pipeline/lock.js';
import { createTarget } from '../../targets/index.js';
import { UnsupportedTarget } from '../../targets/choose.js';
import type { Config } from '../../config/types.js';
import { UserError } from '../../errors.js';
import { wasDeployed } from '../../app-state.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  const target = createTarget(ctx.appDir, whereItRuns(ctx));
  if (!wasDeployed(ctx.appDir)) {
    ctx.say('nothing to stop: ccom has never deployed this app');
    ctx.result({ stopped: 0 });
    return 0;
  }
  const store = Store.open(ctx.appDir);
  // `down` changes what serves like a deploy or rollback does, so it takes the same lock:
  // unlocked, a rollback could start instances while the agent stops, or after "stopped".
  const lock = acquireDeployLock(store, { who: whoAmI(), deploymentId: newDeploymentId(), command: 'ccom down' }, (event) => {
    if (event.type === 'info') ctx.say(event.message);
  });
  try {
    lock.check();
    await target.attach();
    const { instances } = await target.status();
    await target.down();
    // Nothing serves after `down`: the release that was live becomes the one `rollback` or the
    // next deploy starts from, and no message claims it still serves.
    const live = store.liveRelease();
    if (live) store.setReleaseStatus(live.id, 'previous');
    store.audit(whoAmI(), 'down', { instances: instances.length, release: live?.id ?? null });
    ctx.say(`✔ stopped ${instances.length} instance(s) and the agent; history is kept (\`ccom up\` starts it again)`);
    ctx.result({ stopped: instances.length });
    return 0;
  } finally {
    lock.release();
    store.close();
  }
}

/**
 * The config says where the app runs (this machine, or hosts: not supported yet). A config that
 * is missing or broken must not keep a user from stopping what runs here: then it is this machine.
 */
function whereItRuns(ctx: CommandContext): Pick<Config, 'hosts'> {
  try {
    return loadConfig(ctx.appDir).config;
  } catch (err) {
    if (err instanceof UnsupportedTarget || !(err instanceof UserError)) throw err;
    if (wasDeployed(ctx.appDir)) ctx.say(`⚠ ${err.message}; stopping what runs on this machine`);
    return {};
  }
}
