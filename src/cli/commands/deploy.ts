import { isAbsolute, relative } from 'node:path';
import type { StrategyName } from '../../config/types.js';
import { deploy, type DeployResult } from '../../pipeline/deploy.js';
import { createHumanReporter } from '../../report/human.js';
import type { CommandContext } from '../run.js';
import { printResult } from './print-result.js';

export async function run(ctx: CommandContext): Promise<number> {
  const emit = createHumanReporter({ stream: process.stderr, fancy: ctx.fancy, quiet: ctx.quiet });
  const result = await deploy({
    appDir: ctx.appDir,
    strategy: ctx.opts.strategy as StrategyName | undefined,
    dryRun: Boolean(ctx.opts.dryRun),
    wait: Boolean(ctx.opts.wait),
    emit,
  });
  if (!ctx.json && startedFresh(result)) ctx.say(`  it keeps running after this command; stop it with \`ccom down${dirFlag(ctx.appDir)}\``);
  return printResult(ctx, result);
}

/** A first deploy leaves a server running in the background: someone trying ccom out needs to know how to stop it. */
function startedFresh({ doc }: DeployResult): boolean {
  return doc.status === 'succeeded' && doc.kind === 'deploy' && doc.previous === null;
}

/** ` -C <dir>` as the user can type it from here, or nothing when the app is the current directory. */
function dirFlag(appDir: string): string {
  const rel = relative(process.cwd(), appDir);
  if (rel === '') return '';
  const shown = rel.startsWith('..') || isAbsolute(rel) ? appDir : rel;
  return ` -C ${/^[\w./@+-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", "'\\''")}'`}`;
}
