import type { Config } from '../config/types.js';
import { UserError } from '../errors.js';

export type TargetName = 'local';

/** The config names a target this ccom cannot deploy to (hosts: before the SSH target exists). */
export class UnsupportedTarget extends UserError {}

/**
 * Which target an app's config deploys to: this machine unless `hosts:` names servers. The SSH
 * target is not built yet, so a config with hosts is refused (exit 2) rather than deployed here.
 */
export function chooseTarget(config: Pick<Config, 'hosts'>, file = 'ccom.yaml'): TargetName {
  if (config.hosts === undefined) return 'local';
  throw new UnsupportedTarget(`${file} lists hosts: (${config.hosts.join(', ')}), but deploying over SSH is not built yet in this ccom`, {
    fix: `remove hosts: from ${file} to deploy on this machine, or run ccom on the server itself`,
  });
}
