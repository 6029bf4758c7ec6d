import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { UserError } from '../errors.js';
import { quoted, type BootCommand } from './boot-command.js';

export const UNIT_NAME = 'ccom.service';

export function unitFile(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.config'), 'systemd', 'user', UNIT_NAME);
}

/**
 * A oneshot user unit: `ccom up --all` starts the agents, which detach and keep serving.
 * KillMode=process: stopping or restarting the unit must not kill the agents and instances it
 * started (they live in its cgroup), only a `ccom up` still running.
 */
export function unitText(boot: BootCommand): string {
  return `# Written by \`ccom startup\`; \`ccom startup --remove\` removes it.
[Unit]
Description=ccom: start this user's apps after boot (ccom up --all)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
KillMode=process
${Object.entries(boot.env).map(([k, v]) => `Environment=${quoted(`${k}=${v}`)}`).join('\n')}
ExecStart=${boot.argv.map(quoted).join(' ')}

[Install]
WantedBy=default.target
`;
}

/** What a user must still do: without lingering, a user's manager starts only at their login. */
export function lingerAdvice(): string {
  const user = safeUser();
  return `run \`sudo loginctl enable-linger ${user}\` so the unit starts at boot, before ${user} logs in`;
}

export function installUnit(boot: BootCommand): string {
  const file = unitFile();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, unitText(boot));
  systemctl('daemon-reload');
  systemctl('enable', UNIT_NAME);
  return file;
}

/** Returns false when there was no unit to remove. */
export function removeUnit(): boolean {
  const file = unitFile();
  if (!existsSync(file)) return false;
  systemctl('disable', UNIT_NAME);
  rmSync(file, { force: true });
  systemctl('daemon-reload');
  return true;
}

function systemctl(...args: string[]): void {
  const run = spawnSync('systemctl', ['--user', ...args], { encoding: 'utf8', timeout: 15_000 });
  if (run.status !== 0) {
    throw new UserError(`\`systemctl --user ${args.join(' ')}\` failed: ${(run.stderr || run.error?.message || `exit ${run.status}`).trim()}`, {
      fix: 'check that a systemd user manager runs for this user (`systemctl --user status`), or use `ccom startup --system crontab`',
    });
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '$USER';
  }
}
