import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { UserError } from '../errors.js';

export type BootSystem = 'systemd' | 'crontab';

/**
 * systemd where it is the init system (sd_booted(3): /run/systemd/system exists) and this user
 * has a manager, else crontab. `--system` names one (for a machine whose detection is wrong,
 * or to see the other's --print).
 */
export function chooseBootSystem(asked: string | undefined): BootSystem {
  if (asked !== undefined) {
    if (asked === 'systemd' || asked === 'crontab') return asked;
    throw new UserError(`--system ${asked}: not a boot system ccom knows`, { fix: 'use --system systemd or --system crontab' });
  }
  if (existsSync('/run/systemd/system') && spawnSync('systemctl', ['--user', 'is-system-running'], { stdio: 'ignore', timeout: 5000 }).error === undefined) return 'systemd';
  return 'crontab';
}
