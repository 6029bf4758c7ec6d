import { existsSync, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import { tailFile } from '../../agent/log-tail.js';
import { UserError } from '../../errors.js';
import { Store } from '../../store/index.js';
import { localPaths } from '../../targets/local/paths.js';
import type { CommandContext } from '../run.js';
import { followFiles } from './follow.js';

export async function run(ctx: CommandContext): Promise<number> {
  const paths = localPaths(ctx.appDir);
  const store = existsSync(paths.stateDir) ? Store.open(ctx.appDir) : undefined;
  const release = (ctx.opts.release as string | undefined) ?? store?.liveRelease()?.id;
  store?.close();
  if (!release) throw new UserError('no live release to show logs of', { fix: 'deploy first, or pass --release <id> (see `ccom releases`)' });
  const dir = join(paths.logsDir, release);
  if (!existsSync(dir)) throw new UserError(`no logs for release ${release}`, { fix: 'check the id with `ccom releases`' });
  const files = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => join(dir, f));
  const lines = Number(ctx.opts.lines ?? 50);
  for (const file of files) {
    const tail = tailFile(file, lines);
    if (tail) process.stdout.write(`${prefixed(file, tail)}\n`);
  }
  if (ctx.opts.follow) await followFiles(files, (file, text) => process.stdout.write(prefixed(file, text.replace(/\n$/, '')) + '\n'), watch);
  return 0;
}

function prefixed(file: string, text: string): string {
  const name = file.split('/').at(-1)?.replace(/\.log$/, '') ?? '';
  return text
    .split('\n')
    .map((line) => `[${name}] ${line}`)
    .join('\n');
}
