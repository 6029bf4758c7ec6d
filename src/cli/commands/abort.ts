import { decide } from './decide.js';
import type { CommandContext } from '../run.js';

export function run(ctx: CommandContext): Promise<number> {
  return decide(ctx, 'abort');
}
