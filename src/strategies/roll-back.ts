import { must } from './step.js';
import { messageOf } from '../errors.js';
import { RollbackFailed, RolledBack } from '../pipeline/failures.js';
import type { StrategyContext } from './types.js';

/**
 * Puts the previous release back after a failed check and throws RolledBack (exit 1), or
 * RollbackFailed (exit 3) when even that fails. `restore` does the strategy-specific part.
 */
export async function rollBack(ctx: StrategyContext, failure: unknown, restore: () => Promise<string>): Promise<never> {
  const reason = messageOf(failure);
  // A target's own fix for what failed (e.g. "set health.path …") beats the generic one below.
  const { detail, ownFix } = failure as { detail?: string; ownFix?: string };
  ctx.emit({ type: 'rollback', reason });
  try {
    await must(ctx, 'rollback', async (step) => {
      const done = await restore();
      await assertPreviousServes(ctx);
      step.message(done);
    }, { always: true });
  } catch (err) {
    throw new RollbackFailed(`${reason}; then the rollback failed: ${messageOf(err)}`, {
      detail,
      fix: 'run `ccom status` to see what runs where, then `ccom rollback` or `ccom deploy` again',
    });
  }
  throw new RolledBack(reason, {
    detail,
    fix: ownFix ?? `read the new release's output with \`ccom logs --release ${ctx.spec.id}\`, fix the cause, then deploy again`,
  });
}

/** "Your app is safe" must be true: the previous release needs a healthy instance taking the traffic. */
async function assertPreviousServes(ctx: StrategyContext): Promise<void> {
  if (!ctx.previous) return;
  const id = ctx.previous.spec.id;
  const { instances } = await ctx.target.status();
  if (!instances.some((i) => i.release === id && i.healthy)) {
    throw new Error(`traffic is back on ${id}, but it has no healthy instance: nothing serves the app`);
  }
}

/** The weights that send all traffic to the previous release, or none if there was none. */
export function previousWeights(ctx: StrategyContext): Record<string, number> {
  return ctx.previous ? { [ctx.previous.spec.id]: 100 } : {};
}
