import type { Config } from '../config/types.js';
import { chooseTarget } from './choose.js';
import { LocalTarget } from './local/local-target.js';
import type { Target } from './types.js';

/**
 * The target an app deploys to, chosen by its config: `local` (this machine, behind ccom's
 * agent) unless `hosts:` is set. SSH hosts will be a folder next to `local/` implementing the
 * same contract and passing the same contract tests (test/helpers/target-contract.ts).
 */
export function createTarget(appDir: string, config: Pick<Config, 'hosts'>): Target {
  switch (chooseTarget(config)) {
    case 'local':
      return new LocalTarget(appDir);
  }
}
