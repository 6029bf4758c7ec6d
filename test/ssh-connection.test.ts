import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { SshConnection } from '../src/targets/ssh/connection.js';
import { sshSettings, type SshSettings } from '../src/targets/ssh/settings.js';
import { UserError } from '../src/errors.js';
import { startSshHosts, type SshTestFleet, type SshTestHost } from './helpers/ssh-hosts.js';

// Two real sshd hosts, each in a network and mount namespace of its own (test/helpers/ssh-hosts.ts).
let fleet: SshTestFleet;
let a: SshTestHost;
let b: SshTestHost;
before(async () => {
  fleet = await startSshHosts(2, [{ port: 22 }, { port: 2222 }]);
  [a, b] = fleet.hosts as [SshTestHost, SshTestHost];
});
after(() => fleet?.stop());

const settings = (over: Partial<SshSettings> = {}): SshSettings => ({
  ...sshSettings({ user: 'root', identityFile: fleet.identityFile, knownHosts: fleet.knownHosts }),
  ...over,
});
const open = (host: SshTestHost, over: Partial<SshSettings> = {}) => SshConnection.open({ host: host.address, port: host.port }, settings(over));
/** Everything under the SSH user's home and /tmp on the host: "nothing changed" is this staying equal. */
const snapshot = (host: SshTestHost) => host.run('find /root /tmp -printf "%p %s %T@\\n" | sort').stdout;

async function refusal(promise: Promise<unknown>): Promise<UserError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
  return err;
}

test('the hosts are apart: each answers only on its own address and sees only its own files', async () => {
  assert.equal(a.run('echo only-a > /root/marker').code, 0);
  assert.equal(b.run('cat /root/marker').code, 1, 'b does not see a file written on a');
  const reach = a.run(`timeout 2 bash -c 'echo > /dev/tcp/${b.address}/${b.port}' 2>&1`);
  assert.notEqual(reach.code, 0, 'a cannot reach b');
  const conn = await open(a);
  try {
    assert.equal((await conn.exec('cat /root/marker')).stdout, 'only-a\n');
  } finally {
    conn.close();
  }
});

test('exec gives exit code, stdout and stderr; start streams both ways', async () => {
  const conn = await open(b);
  try {
    assert.deepEqual(await conn.exec('echo out; echo err >&2; exit 3'), { code: 3, stdout: 'out\n', stderr: 'err\n' });
    assert.equal((await conn.exec('tr a-z A-Z', { stdin: 'shout\n' })).stdout, 'SHOUT\n');
    const remote = await conn.start('while read line; do echo "got $line"; done');
    const lines: string[] = [];
    const first = new Promise<void>((resolve) =>
      remote.stdout.on('data', (chunk: Buffer) => {
        lines.push(chunk.toString());
        resolve();
      }),
    );
    remote.stdin.write('one\n');
    await first; // the answer arrives while stdin is still open
    assert.equal(lines.join(''), 'got one\n');
    remote.stdin.end('two\n');
    assert.deepEqual(await remote.done, { code: 0 });
    assert.equal(lines.join(''), 'got one\ngot two\n');
  } finally {
    conn.close();
  }
});

test('an unknown host key blocks (exit 2) naming host, key type, SHA256 fingerprint and the ssh-keyscan fix; nothing changes on the host', async () => {
  const empty = join(fleet.dir, 'empty_known_hosts');
  writeFileSync(empty, '');
  const before = snapshot(b);
  const err = await refusal(open(b, { knownHosts: empty }));
  const print = execFileSync('ssh-keygen', ['-lf', join(fleet.dir, b.name, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1]!;
  assert.equal(err.exitCode, 2);
  assert.match(err.message, new RegExp(`host key of root@${b.address}:2222 is not known: it presented ssh-ed25519 ${print.replace(/[+/]/g, '\\$&')}`));
  assert.match(err.fix ?? '', new RegExp(`ssh-keyscan -p 2222 -t ssh-ed25519 ${b.address} >> ${empty}`));
  assert.equal(snapshot(b), before);
});

test('a changed host key blocks louder, naming both fingerprints; hashed known_hosts entries are honoured', async () => {
  const swapped = join(fleet.dir, 'swapped_known_hosts');
  writeFileSync(swapped, `${a.address} ${b.hostKey}\n`); // a's name, b's key
  const before = snapshot(a);
  const err = await refusal(open(a, { knownHosts: swapped }));
  assert.equal(err.exitCode, 2);
  assert.match(err.message, /^WARNING: the host key of root@10\.231\.\d+\.2 has CHANGED\. .*trusts ssh-ed25519 SHA256:\S+ \(line 1\).*man in the middle/);
  assert.match(err.fix ?? '', /ssh-keygen -R 10\.231\.\d+\.2 -f /);
  assert.equal(snapshot(a), before);

  const hashed = join(fleet.dir, 'hashed_known_hosts');
  copyFileSync(fleet.knownHosts, hashed);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed]);
  assert.ok(!readFileSync(hashed, 'utf8').includes(b.address));
  const conn = await open(b, { knownHosts: hashed });
  conn.close();
});

test('ssh.proxyJump: the connection goes through the jump host, whose key is checked too', async () => {
  const conn = await open(a, { proxyJump: `root@${a.address}` });
  try {
    assert.equal((await conn.exec('echo through')).stdout, 'through\n');
  } finally {
    conn.close();
  }
  const onlyB = join(fleet.dir, 'only_b_known_hosts');
  writeFileSync(onlyB, `[${b.address}]:2222 ${b.hostKey}\n`);
  const err = await refusal(open(b, { knownHosts: onlyB, proxyJump: `root@${a.address}` }));
  assert.match(err.message, new RegExp(`host key of root@${a.address} is not known`));
});

test('a host that vanishes mid-command (link down, then sshd killed) ends it with an error naming the host, not a hang', async () => {
  const conn = await open(b, { keepaliveIntervalMs: 300 });
  const remote = await conn.start('sleep 60', { during: 'sleeping' });
  b.setLink(false);
  try {
    const err = await refusal(remote.done);
    assert.match(err.message, new RegExp(`lost the SSH connection to root@${b.address}:2222 while sleeping: no answer to 3 keepalives`));
    const late = await refusal(open(b, { connectTimeoutMs: 500 }));
    assert.match(late.message, new RegExp(`cannot connect to root@${b.address}:2222: no answer within 0.5s`));
  } finally {
    b.setLink(true);
    conn.close();
  }
  const again = await open(b);
  const running = await again.start('sleep 60', { during: 'sleeping again' });
  b.killSshd();
  const err = await refusal(running.done);
  assert.match(err.message, new RegExp(`lost the SSH connection to root@${b.address}:2222 while sleeping again`));
  // A connection made while the killed sshd's listener still exists is reset, not refused.
  await untilRefused(b.address, 2222);
  const refused = await refusal(open(b));
  assert.match(refused.message, /connection refused \(nothing listens for SSH on port 2222\)/);
});

/** Resolves once nothing listens on host:port any more (a connection is refused), within 5 s. */
async function untilRefused(host: string, port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const code = await new Promise<string>((resolve) => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    if (code === 'ECONNREFUSED') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${host}:${port} still takes connections 5 s after sshd was killed`);
}
