import { must, run } from './step.js';
import { blueGreen } from './blue-green.js';
import { observe } from './observe.js';
import { previousWeights, rollBack } from './roll-back.js';
import { runSmoke, smokeChecks } from './smoke.js';
import type { Strategy, StrategyContext } from './types.js';
import { warmUp } from './warm.js';
import { handOffWatch } from './watch-handoff.js';

/**
 * Moves traffic to the new release in `canary.steps`, judging its live traffic continuously
 * against the stable release in the same window; `pause` waits for `ccom promote` / `ccom abort`.
 * Any failure puts all traffic back on the stable release at once.
 */
export const canary: Strategy = {
  name: 'canary',
  async run(ctx: StrategyContext) {
    const { target, config, spec, emit } = ctx;
    if (!ctx.previous) {
      emit({ type: 'info', message: 'first deploy: there is no stable release to compare a canary with, so it goes blue-green' });
      return blueGreen.run(ctx);
    }
    const stable = ctx.previous.spec.id;
    const checks = smokeChecks(config);
    let newIds: string[] = [];
    const stableSeen = {};
    try {
      await must(ctx, 'start', async (step) => {
        const instances = await target.startInstances(spec, config.instances);
        // Known at once: a failure recording the step (a full disk) must still stop them.
        newIds = instances.map((i) => i.id);
        step.message(`${instances.length} instance(s) healthy beside ${stable}`);
      });
      await must(ctx, 'smoke:preview', async (step) => step.message(await runSmoke(checks, (req) => target.preview(spec.id, req), 'preview, before any traffic')));
      await must(ctx, 'warm', async (step) => step.message(await warmUp(ctx, spec.id, newIds.length)));
      let earlierShare = 0;
      for (const weight of config.canary.steps) {
        if (weight === 'pause') {
          const why = `the canary is paused at its current share; run \`ccom promote\` to continue or \`ccom abort\` to roll back`;
          emit({ type: 'paused', why });
          ctx.control?.pause(why);
          await must(ctx, 'pause', async (step) => step.message(await observe(ctx, { release: spec.id, stable, durationMs: 'until-decision', label: 'during the pause', instanceIds: newIds, stableSeen })));
          ctx.control?.resume();
          continue;
        }
        await must(ctx, `canary:${weight}%`, async (step) => {
          await target.setWeights(weight >= 100 ? { [spec.id]: 100 } : { [spec.id]: weight, [stable]: 100 - weight });
          emit({ type: 'info', message: `${weight}% of traffic on ${spec.id} for ${config.canary.intervalMs / 1000}s, analysed continuously` });
          const label = `at ${weight}% of traffic`;
          const stepUp = earlierShare > 0;
          step.message(await observe(ctx, { release: spec.id, stable: weight >= 100 ? null : stable, durationMs: config.canary.intervalMs, label, instanceIds: newIds, stableSeen, stepUp }));
        });
        earlierShare = weight;
      }
      await must(ctx, 'smoke:public', async (step) => step.message(await runSmoke(checks, (req) => target.publicRequest(req), 'public URL')));
    } catch (err) {
      ctx.control?.resume();
      await rollBack(ctx, err, async () => {
        await target.setWeights(previousWeights(ctx));
        await target.stopInstances(newIds, config.drainTimeoutMs);
        return `all traffic back on ${stable}; canary instances stopped`;
      });
    }
    const old = ctx.running.filter((i) => i.release !== spec.id).map((i) => i.id);
    if (await handOffWatch(ctx, newIds, old)) return;
    await run(ctx, 'drain', async (step) => {
      await target.stopInstances(old, config.drainTimeoutMs);
      step.message(`${old.length} instance(s) of ${stable} drained and stopped`);
    }, { always: true }); // once verified, finishing beats stopping half-way
  },
};
