import { must, run } from './step.js';
import { blueGreen } from './blue-green.js';
import { checkInstances, observe } from './observe.js';
import { previousWeights, rollBack } from './roll-back.js';
import { runSmoke, smokeChecks } from './smoke.js';
import { handOffWatch } from './watch-handoff.js';
import type { Strategy, StrategyContext } from './types.js';
import { warmUp } from './warm.js';

/**
 * Replaces instances `rolling.batch` at a time: each new batch must be healthy, then stay healthy
 * under its share of traffic for `rolling.interval` before old instances are drained. A failure
 * anywhere restores the full old set and takes all traffic back.
 */
export const rolling: Strategy = {
  name: 'rolling',
  async run(ctx: StrategyContext) {
    const { target, config, spec, emit } = ctx;
    if (!ctx.previous) {
      emit({ type: 'info', message: 'first deploy: nothing to roll over, so it goes blue-green' });
      return blueGreen.run(ctx);
    }
    const previous = ctx.previous;
    const stable = previous.spec.id;
    const total = config.instances;
    const oldLeft = ctx.running.filter((i) => i.release === stable).map((i) => i.id);
    const others = ctx.running.filter((i) => i.release !== stable && i.release !== spec.id).map((i) => i.id);
    const newIds: string[] = [];
    const stableSeen = {};
    // With a post-switch watch the last old batch stays up (weight 0): the warm previous release.
    const keptWarm: string[] = [];
    const share = () => (100 * newIds.length) / (newIds.length + oldLeft.length);
    try {
      while (newIds.length < total) {
        const batch = Math.min(config.rolling.batch, total - newIds.length);
        await must(ctx, `roll:${newIds.length + batch}/${total}`, async (step) => {
          const started = await target.startInstances(spec, batch);
          newIds.push(...started.map((i) => i.id));
          if (newIds.length === batch) {
            await runSmoke(smokeChecks(config), (req) => target.preview(spec.id, req), 'preview, before any traffic');
          }
          const warmed = await warmUp(ctx, spec.id, newIds.length);
          // Every new instance so far must still be up before more traffic moves and old ones
          // stop: an earlier batch's instance that crashed since its analysis would otherwise
          // take the traffic of the old ones that stop now, and users would get 503s.
          await checkInstances(ctx, { release: spec.id, instanceIds: newIds, label: `before batch ${newIds.length}/${total} takes traffic` });
          const leaving = oldLeft.splice(0, batch);
          await target.setWeights(oldLeft.length === 0 ? { [spec.id]: 100 } : { [spec.id]: share(), [stable]: 100 - share() });
          if (oldLeft.length === 0 && ctx.handOffWatch) keptWarm.push(...leaving);
          else await target.stopInstances(leaving, config.drainTimeoutMs);
          const label = `with ${newIds.length} of ${total} instances replaced`;
          const verdict = await observe(ctx, { release: spec.id, stable: oldLeft.length ? stable : null, durationMs: config.rolling.intervalMs, label, instanceIds: newIds, stableSeen });
          step.message(`${Math.round(share())}% of traffic on ${spec.id}; warmed: ${warmed}; ${verdict}`);
        });
      }
      await must(ctx, 'smoke:public', async (step) => step.message(await runSmoke(smokeChecks(config), (req) => target.publicRequest(req), 'public URL')));
    } catch (err) {
      await rollBack(ctx, err, async () => {
        // Old capacity first, then traffic, then the new instances go: users always have a full set.
        const missing = total - oldLeft.length - keptWarm.length;
        if (missing > 0) await target.startInstances(previous.spec, missing);
        await target.setWeights(previousWeights(ctx));
        await target.stopInstances(newIds, config.drainTimeoutMs);
        return `${stable} restored to ${total} instance(s) with all traffic; new instances stopped`;
      });
    }
    if (await handOffWatch(ctx, newIds, [...keptWarm, ...others])) return;
    await run(ctx, 'drain', async (step) => {
      await target.stopInstances([...oldLeft, ...keptWarm, ...others], config.drainTimeoutMs);
      step.message(`${oldLeft.length + keptWarm.length + others.length} leftover instance(s) stopped`);
    }, { always: true }); // once verified, finishing beats stopping half-way
  },
};
