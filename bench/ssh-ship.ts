/**
 * Redeploy shipping over SSH: a generated 100 MB release (2,000 files of mixed sizes) is on the
 * hosts; one 1 MB file changes; ccom builds the new release and ships it (connect, ask which
 * blobs the host lacks, send them, materialise and re-hash the whole release on the host) to 1
 * and to 3 hosts at once. The peer, in the same run and interleaved round by round: `rsync -a`
 * over OpenSSH of the same change (the app directory, unchanged files keeping their mtimes) to a
 * copy on the same hosts, one rsync per host at once. Bytes are counted on each host's veth (IP
 * packets to the host), the same way for both.
 *
 * Needs root, openssh-server and rsync (`apt-get install -y openssh-server rsync`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assembleRelease } from '../src/gates/release.js';
import { SshConnection } from '../src/targets/ssh/connection.js';
import { sshSettings } from '../src/targets/ssh/settings.js';
import { shipRelease } from '../src/targets/ssh/ship.js';
import { startSshHosts, type SshTestFleet, type SshTestHost } from '../test/helpers/ssh-hosts.js';
import { onCleanup } from './lib/cleanup.js';
import { isMain, runAsScript } from './lib/main.js';
import { ratio, type BenchResult, type BenchRow } from './lib/report.js';
import { round1, summarize } from './lib/stats.js';

const ROUNDS = 5;
const CHANGED = 'public/app.js';
const CHANGED_BYTES = 1_000_000;

/** ~100 MB: 1,400 small files (4–40 KB), 594 medium (50–150 KB), 5 large (3 MB), one 1 MB bundle. */
function generateApp(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const write = (rel: string, size: number) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), randomBytes(size));
    files++;
    bytes += size;
  };
  writeFileSync(path.join(dir, 'package.json'), '{"name":"bench-app"}\n');
  for (let i = 0; i < 1400; i++) write(`src/mod${i % 20}/f${i}.js`, 4_000 + ((i * 7919) % 36_000));
  for (let i = 0; i < 594; i++) write(`public/assets/a${i}.bin`, 50_000 + ((i * 104_729) % 100_000));
  for (let i = 0; i < 5; i++) write(`public/media/m${i}.mp4`, 3_000_000);
  write(CHANGED, CHANGED_BYTES);
  return { files: files + 1, bytes };
}

/** Bytes the host's veth has carried towards the host so far. */
function txBytes(host: SshTestHost): number {
  const n = host.name.replace('ccom-ssh-', '');
  return Number(readFileSync(`/sys/class/net/ccs${n}a/statistics/tx_bytes`, 'utf8'));
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

function rsyncTo(fleet: SshTestFleet, host: SshTestHost, appDir: string): Promise<void> {
  const ssh = `ssh -i ${fleet.identityFile} -o UserKnownHostsFile=${fleet.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -p ${host.port}`;
  return run('rsync', ['-a', '-e', ssh, `${appDir}/`, `root@${host.address}:/root/rsync-app/`]);
}

async function ccomTo(fleet: SshTestFleet, host: SshTestHost, releaseDir: string): Promise<number> {
  const settings = sshSettings({ user: 'root', identityFile: fleet.identityFile, knownHosts: fleet.knownHosts });
  const conn = await SshConnection.open({ host: host.address, port: host.port }, settings);
  try {
    return (await shipRelease(conn, 'bench', releaseDir)).blobBytes;
  } finally {
    conn.close();
  }
}

/** Wall time and veth bytes of `ship` run on every host at once. */
async function measure(hosts: SshTestHost[], ship: (host: SshTestHost) => Promise<unknown>): Promise<{ ms: number; bytes: number }> {
  const before = hosts.map(txBytes);
  const started = performance.now();
  await Promise.all(hosts.map(ship));
  const ms = performance.now() - started;
  return { ms, bytes: hosts.reduce((sum, h, i) => sum + txBytes(h) - before[i]!, 0) };
}

export async function sshShip(): Promise<BenchResult> {
  const work = mkdtempSync(path.join(tmpdir(), 'ccom-bench-ssh-'));
  const fleet = await startSshHosts(3);
  const stop = onCleanup(async () => {
    fleet.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const appDir = path.join(work, 'app');
  const releases = path.join(work, 'releases');
  mkdirSync(appDir);
  const samples: Record<string, number[]> = {};
  const add = (key: string, value: number) => (samples[key] ??= []).push(value);
  try {
    const app = generateApp(appDir);
    let release = path.join(releases, 'r0');
    await assembleRelease({ appDir, releaseDir: release, shared: [] });
    const first = await measure(fleet.hosts, (h) => ccomTo(fleet, h, release));
    await Promise.all(fleet.hosts.map((h) => rsyncTo(fleet, h, appDir)));
    for (let round = 1; round <= ROUNDS; round++) {
      writeFileSync(path.join(appDir, CHANGED), randomBytes(CHANGED_BYTES));
      release = path.join(releases, `r${round}`);
      await assembleRelease({ appDir, releaseDir: release, shared: [] });
      for (const count of [1, 3]) {
        const hosts = fleet.hosts.slice(0, count);
        // Alternate who goes first, so neither always meets the warmer page cache.
        const order = round % 2 === 0 ? ['ccom', 'rsync'] : ['rsync', 'ccom'];
        for (const who of order) {
          const r =
            who === 'ccom'
              ? await measure(hosts, (h) => ccomTo(fleet, h, release))
              : await measure(hosts, (h) => rsyncTo(fleet, h, appDir));
          add(`${who} ${count} ms`, r.ms);
          add(`${who} ${count} bytes`, r.bytes / count);
        }
        // The 3-host round ships the release the 1-host round already put on the first host:
        // that host answers "already there", so the 3-host figures are for a fresh release on each.
        if (count === 1) {
          release = path.join(releases, `r${round}b`);
          writeFileSync(path.join(appDir, CHANGED), randomBytes(CHANGED_BYTES));
          await assembleRelease({ appDir, releaseDir: release, shared: [] });
        }
      }
    }
    const stat = (key: string) => summarize(samples[key] ?? []);
    const rows: BenchRow[] = [];
    for (const count of [1, 3]) {
      for (const who of ['ccom', 'rsync']) {
        const s = stat(`${who} ${count} ms`);
        rows.push({ label: `${who === 'ccom' ? 'ccom ship' : 'rsync -a'}, one 1 MB file changed, ${count} host${count > 1 ? 's' : ''} (wall)`, unit: 'ms', median: round1(s.median), p90: round1(s.p90), n: s.n });
      }
      for (const who of ['ccom', 'rsync']) {
        const s = stat(`${who} ${count} bytes`);
        rows.push({ label: `${who === 'ccom' ? 'ccom' : 'rsync'} bytes to each host, ${count} host${count > 1 ? 's' : ''}`, unit: 'MB', median: round1(s.median / 1e6 * 100) / 100, n: s.n });
      }
    }
    const bytes1 = stat('ccom 1 bytes').median;
    return {
      name: 'ssh-ship',
      title: `Redeploy shipping over SSH: ${app.files} files, ${round1(app.bytes / 1e6)} MB, one ${CHANGED_BYTES / 1e6} MB file changed (${ROUNDS} rounds, interleaved)`,
      rows,
      ratios: [
        { label: 'ccom / rsync wall, 1 host (median)', value: ratio(stat('ccom 1 ms').median, stat('rsync 1 ms').median) },
        { label: 'ccom / rsync wall, 3 hosts (median)', value: ratio(stat('ccom 3 ms').median, stat('rsync 3 ms').median) },
        { label: 'ccom / rsync bytes per host, 1 host (median)', value: ratio(bytes1, stat('rsync 1 bytes').median) },
        { label: 'ccom bytes per host / changed file size', value: ratio(bytes1, CHANGED_BYTES), target: '≈ 1×' },
      ],
      notes: [
        `first ship of the whole release to 3 hosts at once: ${round1(first.ms)} ms, ${round1(first.bytes / 3e6)} MB per host`,
        'bytes are IP bytes on each host\'s veth towards the host (SSH framing, TCP/IP headers and handshakes included), the same for both',
        'ccom makes a new release directory on the host (2,001 hard links) and checks it there against the manifest (each file a link to its stored copy with the right size and mode; contents re-hashed where that copy changed since its last check); rsync updates one directory in place, judging files by size and mtime',
        `bytes per host, 1 host (median): ccom ${Math.round(bytes1)} B, rsync ${Math.round(stat('rsync 1 bytes').median)} B, for a ${CHANGED_BYTES} B change`,
      ],
    };
  } finally {
    await stop();
  }
}

if (isMain(import.meta.url)) runAsScript(sshShip);
