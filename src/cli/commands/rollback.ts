import { rollback } from '../../pipeline/rollback.js';
import { createHumanReporter } from '../../report/human.js';
import type { CommandContext } from '../run.js';
import { printResult } from './print-result.js';

export async function run(ctx: CommandContext): Promise<number> {
  const emit = createHumanReporter({ stream: process.stderr, fancy: ctx.fancy, quiet: ctx.quiet });
  const result = await rollback({ appDir: ctx.appDir, release: ctx.args[0], emit });
  return printResult(ctx, result);
}
