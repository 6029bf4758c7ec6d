import { existsSync } from 'node:fs';
import { appStateDir } from '../../app-state.js';
import { loadConfig } from '../../config/load.js';
import { UserError } from '../../errors.js';
import { Store } from '../../store/index.js';
import { createTarget } from '../../targets/index.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  const target = createTarget(ctx.appDir, loadConfig(ctx.appDir).config);
  const store = existsSync(appStateDir(ctx.appDir)) ? Store.open(ctx.appDir) : undefined;
  const release = (ctx.opts.release as string | undefined) ?? store?.liveRelease()?.id;
  store?.close();
  if (!release) throw new UserError('no live release to show logs of', { fix: 'deploy first, or pass --release <id> (see `ccom releases`)' });
  const query = { release, lines: Number(ctx.opts.lines ?? 50), follow: Boolean(ctx.opts.follow) };
  for await (const { instance, line } of target.logs(query)) process.stdout.write(`[${instance}] ${line}\n`);
  return 0;
}
