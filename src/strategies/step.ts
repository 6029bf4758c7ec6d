import type { StepHandle } from '../pipeline/steps.js';
import type { StrategyContext } from './types.js';

/**
 * A strategy's step, also named as the one running now in the deployment's control row:
 * `ccom status` and `ccom promote` in another terminal say where a deployment is, not where
 * it was when its last step ended.
 */
export function must<T>(ctx: StrategyContext, name: string, body: (step: StepHandle) => Promise<T>, opts: { always?: boolean } = {}): Promise<T> {
  ctx.control?.at(name);
  return ctx.steps.must(name, body, opts);
}

/** Like `must`, for steps that may warn or must run whatever happened before (drain). */
export function run<T>(ctx: StrategyContext, name: string, body: (step: StepHandle) => Promise<T>, opts: { required?: boolean; always?: boolean } = {}): Promise<T | undefined> {
  ctx.control?.at(name);
  return ctx.steps.run(name, body, opts);
}
