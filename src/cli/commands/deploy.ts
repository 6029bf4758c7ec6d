import type { StrategyName } from '../../config/types.js';
import { deploy } from '../../pipeline/deploy.js';
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
  return printResult(ctx, result);
}
