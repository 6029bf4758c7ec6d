import { Store } from '../../store/index.js';
import { wasDeployed } from '../../app-state.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  if (!wasDeployed(ctx.appDir)) {
    ctx.result({ backups: [] }, 'no backups yet: they are taken before each migration');
    return 0;
  }
  const store = Store.open(ctx.appDir);
  const backups = store.listBackups();
  store.close();
  if (!ctx.json) {
    for (const b of backups) {
      ctx.say(`${b.id}  ${b.status.padEnd(8)} ${b.createdAt}  ${b.files} file(s) ${b.bytes} bytes  ${b.reason}${b.release ? ` for ${b.release}` : ''}${b.status === 'pruned' ? '' : `  ${b.dir}`}`);
    }
    if (backups.length === 0) ctx.say('no backups yet: they are taken before each migration');
  }
  ctx.result({ backups });
  return 0;
}
