import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { quoted, type BootCommand } from './boot-command.js';

/** Ends the line ccom writes, so `--remove` (and a second `ccom startup`) finds it and nothing else. */
export const MARKER = '# ccom startup';

export function cronLine(boot: BootCommand): string {
  const env = Object.entries(boot.env).map(([k, v]) => `${k}=${quoted(v)}`).join(' ');
  const log = join(boot.env.CCOM_HOME ?? '', 'startup.log');
  // cron turns an unescaped % into a newline (crontab(5)).
  return `@reboot ${env} ${boot.argv.map(quoted).join(' ')} >> ${quoted(log)} 2>&1 ${MARKER}`.replace(/%/g, '\\%');
}

/** This user's crontab without ccom's line; empty when there is none. */
function currentLines(): string[] {
  const run = crontab(['-l']);
  // "no crontab for <user>" is exit 1 with nothing to keep.
  if (run.status !== 0) return [];
  return run.stdout.split('\n').filter((line) => line !== '' && !line.endsWith(MARKER));
}

export function installCron(boot: BootCommand): string {
  const line = cronLine(boot);
  write([...currentLines(), line]);
  return line;
}

/** Returns false when there was no ccom line to remove. */
export function removeCron(): boolean {
  const run = crontab(['-l']);
  if (run.status !== 0 || !run.stdout.split('\n').some((l) => l.endsWith(MARKER))) return false;
  write(currentLines());
  return true;
}

function write(lines: string[]): void {
  const run = crontab(['-'], lines.length ? `${lines.join('\n')}\n` : '');
  if (run.status !== 0) throw new UserError(`\`crontab -\` failed: ${(run.stderr || `exit ${run.status}`).trim()}`, { fix: 'check that cron is installed and this user may use it (/etc/cron.allow)' });
}

function crontab(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('crontab', args, { encoding: 'utf8', input, timeout: 15_000 });
  if (run.error) {
    throw new UserError(`crontab is not available here (${run.error.message})`, {
      fix: 'install cron (`apt-get install cron`), or print the line with `ccom startup --print` and add it where your system runs boot jobs',
    });
  }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
