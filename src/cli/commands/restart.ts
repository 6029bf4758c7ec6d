import { restartLive } from '../../pipeline/restart-live.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  const report = await restartLive(ctx.appDir, ctx.say);
  ctx.say(`🎉 Release ${report.release} restarted, instance by instance, with no gap: live at ${report.url ?? '(no URL)'}`);
  ctx.result(report, report.url ?? '');
  return 0;
}
