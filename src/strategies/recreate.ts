import { must } from './step.js';
import { rollBack, previousWeights } from './roll-back.js';
import { runSmoke, smokeChecks } from './smoke.js';
import type { Strategy, StrategyContext } from './types.js';

/** Stops the old set, then starts the new one: simple, but the app is down in between. */
export const recreate: Strategy = {
  name: 'recreate',
  async run(ctx: StrategyContext) {
    const { target, config, spec } = ctx;
    const checks = smokeChecks(config);
    const old = ctx.running.map((i) => i.id);
    if (old.length > 0) {
      ctx.emit({ type: 'info', message: 'recreate stops the live release first: the app is down until the new one is healthy' });
      await must(ctx, 'stop-old', async (step) => {
        await target.setWeights({});
        await target.stopInstances(old, config.drainTimeoutMs);
        step.message(`${old.length} instance(s) stopped`);
      });
    }
    let newIds: string[] = [];
    try {
      await must(ctx, 'start', async () => {
        // Known at once: a failure recording the step (a full disk) must still stop them.
        newIds = (await target.startInstances(spec, config.instances)).map((i) => i.id);
      });
      await must(ctx, 'smoke:preview', async (step) => step.message(await runSmoke(checks, (req) => target.preview(spec.id, req), 'preview, before any traffic')));
      await must(ctx, 'switch', () => target.setWeights({ [spec.id]: 100 }));
      await must(ctx, 'smoke:public', async (step) => step.message(await runSmoke(checks, (req) => target.publicRequest(req), 'public URL')));
    } catch (err) {
      await rollBack(ctx, err, async () => {
        await target.setWeights({});
        await target.stopInstances(newIds, 0);
        if (!ctx.previous) return 'new instances stopped; there was no previous release to restore';
        await target.startInstances(ctx.previous.spec, config.instances);
        await target.setWeights(previousWeights(ctx));
        return `${ctx.previous.spec.id} started again and serving`;
      });
    }
  },
};
