import { LocalTarget } from './local/local-target.js';
import type { Target } from './types.js';

/**
 * Finds the target an app deploys to. Only `local` (this machine, behind ccom's agent) exists;
 * SSH hosts and Kubernetes will each be a folder next to `local/` implementing the same contract,
 * chosen here by name.
 */
export function createTarget(appDir: string, name = 'local'): Target {
  switch (name) {
    case 'local':
      return new LocalTarget(appDir);
    default:
      throw new Error(`unknown target ${name}`);
  }
}
