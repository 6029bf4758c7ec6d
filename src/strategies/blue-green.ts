import { must, run } from './step.js';
import { rollBack, previousWeights } from './roll-back.js';
import { runSmoke, smokeChecks } from './smoke.js';
import type { Strategy, StrategyContext } from './types.js';
import { warmUp } from './warm.js';
import { handOffWatch } from './watch-handoff.js';

/**
 * Starts the full new set beside the old one, checks it through the preview route, switches
 * all traffic in one atomic swap, checks the public URL, then drains and stops the old set (or,
 * with `analysis.watch`, keeps it warm while the agent watches). Until the old set is stopped,
 * a rollback is one more swap.
 */
export const blueGreen: Strategy = {
  name: 'blue-green',
  async run(ctx: StrategyContext) {
    const { target, config, spec } = ctx;
    const checks = smokeChecks(config);
    const reusable = ctx.running.filter((i) => i.release === spec.id && i.healthy);
    let newIds = reusable.map((i) => i.id);
    let switched = false;
    try {
      if (reusable.length > 0) {
        ctx.steps.skip('start', `${reusable.length} instance(s) of ${spec.id} still running: reused`);
      } else {
        await must(ctx, 'start', async (step) => {
          const instances = await target.startInstances(spec, config.instances);
          // Known at once: a failure recording the step (a full disk) must still stop them.
          newIds = instances.map((i) => i.id);
          step.message(`${instances.length} instance(s) healthy on ports ${instances.map((i) => i.port).join(', ')}`);
        });
      }
      await must(ctx, 'smoke:preview', async (step) => step.message(await runSmoke(checks, (req) => target.preview(spec.id, req), 'preview, before any traffic')));
      await must(ctx, 'warm', async (step) => step.message(await warmUp(ctx, spec.id, newIds.length)));
      await must(ctx, 'switch', async (step) => {
        await target.setWeights({ [spec.id]: 100 });
        switched = true;
        step.message(`100% of traffic on ${spec.id}`);
      });
      await must(ctx, 'smoke:public', async (step) => step.message(await runSmoke(checks, (req) => target.publicRequest(req), 'public URL')));
    } catch (err) {
      await rollBack(ctx, err, async () => {
        if (switched) await target.setWeights(previousWeights(ctx));
        await target.stopInstances(newIds, config.drainTimeoutMs);
        return ctx.previous ? `traffic back on ${ctx.previous.spec.id}; new instances stopped` : 'new instances stopped';
      });
    }
    const old = ctx.running.filter((i) => i.release !== spec.id).map((i) => i.id);
    if (await handOffWatch(ctx, newIds, old)) return;
    await run(ctx, 'drain', async (step) => {
      await target.stopInstances(old, config.drainTimeoutMs);
      step.message(old.length ? `${old.length} old instance(s) drained and stopped` : 'nothing to drain');
    }, { always: true }); // once verified, finishing beats stopping half-way
  },
};
