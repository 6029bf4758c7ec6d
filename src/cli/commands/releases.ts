import { Store } from '../../store/index.js';
import { wasDeployed } from '../../app-state.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  if (!wasDeployed(ctx.appDir)) {
    ctx.result({ releases: [] }, 'no releases yet: run `ccom deploy`');
    return 0;
  }
  const store = Store.open(ctx.appDir);
  const releases = store.listReleases().map((r) => ({
    id: r.id,
    createdAt: r.createdAt,
    status: r.status,
    strategy: r.strategy,
    digest: r.digest,
    deployedBy: r.deployedBy,
  }));
  store.close();
  if (!ctx.json) {
    for (const r of releases) {
      ctx.say(`${r.status === 'live' ? '●' : ' '} ${r.id}  ${r.status.padEnd(11)} ${r.strategy.padEnd(10)} ${r.digest.slice(0, 19)}  ${r.createdAt}  ${r.deployedBy}`);
    }
    if (releases.length === 0) ctx.say('no releases yet: run `ccom deploy`');
  }
  ctx.result({ releases });
  return 0;
}
