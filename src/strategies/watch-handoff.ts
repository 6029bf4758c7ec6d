import { messageOf } from '../errors.js';
import type { StrategyContext } from './types.js';

/**
 * The end of a strategy once traffic moved and was verified, when `analysis.watch` is on and
 * a previous release served: its healthy instances in `leaving` stay warm (weight 0) while the
 * agent watches the new release; instances of older releases stop now. Returns false when no
 * watch applies, and the strategy drains as before. A watch the agent cannot take is no reason
 * to undo a verified switch: the old instances are then drained and the step says why.
 */
export async function handOffWatch(ctx: StrategyContext, releaseIds: string[], leaving: string[]): Promise<boolean> {
  const { target, config, steps } = ctx;
  const previous = ctx.previous?.spec.id;
  const handOff = ctx.handOffWatch;
  const warm = ctx.running.filter((i) => i.release === previous && i.healthy && leaving.includes(i.id)).map((i) => i.id);
  if (!handOff || warm.length === 0) return false;
  const stopNow = leaving.filter((id) => !warm.includes(id));
  await steps.run('watch', async (step) => {
    await target.stopInstances(stopNow, config.drainTimeoutMs);
    try {
      step.message(await handOff({ releaseIds, previousIds: warm }));
    } catch (err) {
      await target.stopInstances(warm, config.drainTimeoutMs);
      step.message(`the watch could not start (${messageOf(err)}); ${warm.length} old instance(s) drained and stopped`);
    }
  }, { always: true }); // once verified, finishing beats stopping half-way
  return true;
}
