import { rollBack, previousWeights } from './roll-back.js';
import { runSmoke, smokeChecks } from './smoke.js';
import type { Strategy, StrategyContext } from './types.js';

/** Stops the old set, then starts the new one: simple, but the app is down in between. */
export const recreate: Strategy = {
  name: 'recreate',
  async run(ctx: StrategyContext) {
    const { target, config, spec, steps } = ctx;
    const checks = smokeChecks(config);
    const old = ctx.running.map((i) => i.id);
    if (old.length > 0) {
      ctx.emit({ type: 'info', message: 'recreate stops the live release first: the app is down until the new one is healthy' });
      await steps.must('stop-old', async (step) => {
        await target.setWeights({});
        await target.stopInstances(old, config.drainTimeoutMs);
        step.message(`${old.length} instance(s) stopped`);
      });
    }
    let newIds: string[] = [];
    try {
      const started = await steps.must('start', () => target.startInstances(spec, config.instances));
      newIds = started.map((i) => i.id);
      await steps.must('smoke:preview', async (step) => step.message(await runSmoke(checks, (req) => target.preview(spec.id, req), 'preview, before any traffic')));
      await steps.must('switch', () => target.setWeights({ [spec.id]: 100 }));
      await steps.must('smoke:public', async (step) => step.message(await runSmoke(checks, (req) => target.publicRequest(req), 'public URL')));
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
