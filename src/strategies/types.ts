import type { Config } from '../config/types.js';
import type { DeployControl } from '../pipeline/control.js';
import type { Steps } from '../pipeline/steps.js';
import type { Emit } from '../pipeline/types.js';
import type { InstanceInfo, ReleaseSpec, Target } from '../targets/types.js';

export interface StrategyContext {
  target: Target;
  config: Config;
  /** The release to bring live. */
  spec: ReleaseSpec;
  /** The release serving now (null on a first deploy), and how to start it again if needed. */
  previous: { spec: ReleaseSpec } | null;
  /** Instances running before the deployment started. */
  running: InstanceInfo[];
  steps: Steps;
  emit: Emit;
  /** `ccom promote` / `ccom abort` from another terminal (strategies that pause). */
  control?: DeployControl;
  /**
   * Set when `analysis.watch` is on and a previous release served: hands the post-switch watch
   * to the target (the previous release's `previousIds` stay warm) and says until when it runs.
   */
  handOffWatch?: (ids: { releaseIds: string[]; previousIds: string[] }) => Promise<string>;
}

/**
 * A strategy moves traffic from the previous release to the new one. On any failed check it
 * puts the previous release back itself and throws RolledBack, or RollbackFailed when it cannot.
 */
export interface Strategy {
  readonly name: string;
  run(ctx: StrategyContext): Promise<void>;
}
