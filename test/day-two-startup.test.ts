import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCcom } from './helpers/ccom.js';

const sandbox = mkdtempSync(join(tmpdir(), 'ccom-startup-'));
after(() => rmSync(sandbox, { recursive: true, force: true }));
const home = join(sandbox, 'home');

/**
 * This machine runs no systemd and has no cron: `crontab` and `systemctl` here are small
 * stand-ins on PATH with their real command-line behaviour (crontab -l / - / -r on one file;
 * systemctl records its arguments), so what ccom writes and runs is seen for real.
 */
function tools(): { env: NodeJS.ProcessEnv; crontab: string; systemctlLog: string; config: string } {
  const bin = join(sandbox, 'bin');
  const crontab = join(sandbox, 'crontab.txt');
  const systemctlLog = join(sandbox, 'systemctl.log');
  spawnSync('mkdir', ['-p', bin]);
  writeFileSync(join(bin, 'crontab'), `#!/bin/sh\ncase "$1" in\n  -l) [ -f '${crontab}' ] && exec cat '${crontab}'; echo "no crontab for $USER" >&2; exit 1;;\n  -) exec cat > '${crontab}';;\n  -r) exec rm -f '${crontab}';;\nesac\nexit 2\n`);
  writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$@" >> '${systemctlLog}'\n`);
  for (const tool of ['crontab', 'systemctl']) chmodSync(join(bin, tool), 0o755);
  const config = join(sandbox, 'config');
  return { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, XDG_CONFIG_HOME: config, CCOM_HOME: home }, crontab, systemctlLog, config };
}

test('startup --print shows the systemd unit or the crontab line and writes nothing', async () => {
  const { env, crontab, config } = tools();
  const unit = await runCcom(['startup', '--print', '--system', 'systemd', '-C', sandbox], env);
  assert.equal(unit.code, 0, unit.stderr);
  assert.match(unit.stdout, /^\[Service\]\nType=oneshot\nRemainAfterExit=yes\nKillMode=process\n/m);
  assert.match(unit.stdout, new RegExp(`^Environment=CCOM_HOME=${home}$`, 'm'));
  assert.match(unit.stdout, /^ExecStart=\S+node \S+\/bin\/ccom\.js up --all$/m);
  assert.match(unit.stdout, /^WantedBy=default\.target$/m);
  assert.match(unit.stderr, /would write to .*\/systemd\/user\/ccom\.service/);
  assert.match(unit.stderr, /loginctl enable-linger/);
  const cron = await runCcom(['startup', '--print', '--system', 'crontab', '-C', sandbox], env);
  assert.equal(cron.code, 0, cron.stderr);
  assert.match(cron.stdout, new RegExp(`^@reboot CCOM_HOME=${home} PATH=\\S+ \\S+node \\S+/bin/ccom\\.js up --all >> ${home}/startup\\.log 2>&1 # ccom startup\\n$`));
  const json = await runCcom(['startup', '--print', '--system', 'crontab', '--json', '-C', sandbox], env);
  assert.equal(json.json.written, false);
  assert.equal(`${json.json.text}`, cron.stdout);
  assert.equal(existsSync(crontab), false, '--print wrote a crontab');
  assert.equal(existsSync(config), false, '--print wrote a unit');
  // Detection: no /run/systemd/system on a machine without systemd as init.
  const detected = await runCcom(['startup', '--print', '--json', '-C', sandbox], env);
  assert.equal(detected.json.system, existsSync('/run/systemd/system') ? 'systemd' : 'crontab');
});

test('startup writes the crontab line once, keeps the other lines, and --remove takes only its own', async () => {
  const { env, crontab } = tools();
  writeFileSync(crontab, '0 3 * * * /usr/local/bin/backup\n');
  for (let i = 0; i < 2; i++) assert.equal((await runCcom(['startup', '--system', 'crontab', '-C', sandbox], env)).code, 0);
  const lines = readFileSync(crontab, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 2, 'one ccom line, even after two runs');
  assert.equal(lines[0], '0 3 * * * /usr/local/bin/backup');
  assert.match(lines[1] ?? '', /^@reboot .* up --all .*# ccom startup$/);
  const removed = await runCcom(['startup', '--remove', '--system', 'crontab', '-C', sandbox, '--json'], env);
  assert.equal(removed.json.removed, true);
  assert.equal(readFileSync(crontab, 'utf8'), '0 3 * * * /usr/local/bin/backup\n');
  assert.equal((await runCcom(['startup', '--remove', '--system', 'crontab', '-C', sandbox, '--json'], env)).json.removed, false);
});

test('startup writes and enables the systemd user unit, and --remove disables and deletes it', async () => {
  const { env, systemctlLog, config } = tools();
  const made = await runCcom(['startup', '--system', 'systemd', '-C', sandbox], env);
  assert.equal(made.code, 0, made.stderr);
  const unit = join(config, 'systemd', 'user', 'ccom.service');
  assert.match(readFileSync(unit, 'utf8'), /^ExecStart=.* up --all$/m);
  assert.match(made.stderr, /next: run `sudo loginctl enable-linger \S+`/);
  const removed = await runCcom(['startup', '--remove', '--system', 'systemd', '-C', sandbox], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(existsSync(unit), false);
  assert.deepEqual(readFileSync(systemctlLog, 'utf8').trim().split('\n'), ['--user daemon-reload', '--user enable ccom.service', '--user disable ccom.service', '--user daemon-reload']);
});

// Only where cron really is installed; the line is removed again, and other lines are kept.
const hasCrontab = spawnSync('sh', ['-c', 'command -v crontab'], { stdio: 'ignore' }).status === 0;
test('startup with the real crontab', { skip: hasCrontab ? false : 'no crontab on this machine' }, async () => {
  const env = { CCOM_HOME: home };
  const before = spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout;
  try {
    assert.equal((await runCcom(['startup', '--system', 'crontab', '-C', sandbox], env)).code, 0);
    assert.match(spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout, /# ccom startup$/m);
  } finally {
    await runCcom(['startup', '--remove', '--system', 'crontab', '-C', sandbox], env);
  }
  assert.equal(spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout, before);
});
