/**
 * SSH "hosts" on this machine for tests: each is a network namespace made here (a veth pair,
 * 10.231.<n>.1 on this side, 10.231.<n>.2 inside), with its own mount namespace (tmpfs over the
 * SSH user's home and over /tmp, so hosts share no state files) and its own Debian sshd (key-only
 * login, a host key generated here and trusted through a known_hosts file written here).
 *
 * Needs root (CI and the dev machines run as root): `ip netns add`, veth links, `unshare
 * --mount`, tmpfs mounts, `nsenter`. The SSH user is root, whose home (/root) is a fresh tmpfs
 * inside each host, so the deploying side's /root is never seen or touched by a host.
 *
 * Traffic never leaves this machine: a route `unreachable 10.231.0.0/16` stays under the hosts'
 * own /30 routes while any fleet runs, so a packet for a host whose link is gone is refused here.
 *
 * Names are unique per run: subnet <n> is claimed with an atomic mkdir under /run/ccom-ssh-hosts/
 * naming the owning pid; the netns is `ccom-ssh-<n>`. A claim whose owner died (a test killed
 * before its cleanup) is cleaned up and reused; every host is also torn down when the process
 * exits, even on a failed assertion.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SshTestHost {
  /** The network namespace's name. */
  name: string;
  /** Its address inside its namespace; reachable from this machine only (through the veth). */
  address: string;
  port: number;
  user: string;
  /** The SSH user's home inside the host (a tmpfs of its own). */
  home: string;
  /** `user@address:port`, as a ccom.yaml `hosts:` entry. */
  entry: string;
  /** The public host key line (`ssh-ed25519 AAAA…`) and its `ssh-keygen -l` fingerprint. */
  hostKey: string;
  /** Pid of the host's sshd (the listener). */
  sshdPid(): number;
  /** Runs a shell command inside the host's namespaces, as root. */
  run(command: string, input?: string): { code: number | null; stdout: string; stderr: string };
  /** SIGKILL the host's sshd and every session it started: the host stops answering SSH. */
  killSshd(): void;
  /** Takes the link to the host down (or up again): packets to it vanish, no reset. */
  setLink(up: boolean): void;
  /** Kills sshd and what runs in the namespace, deletes the veth and the namespace. */
  stop(): void;
}

export interface SshTestFleet {
  hosts: SshTestHost[];
  /** Private key the hosts accept (ed25519, no passphrase). */
  identityFile: string;
  /** A known_hosts file listing every host's key. */
  knownHosts: string;
  /** Scratch directory of this fleet on this machine. */
  dir: string;
  stop(): void;
}

const CLAIMS = '/run/ccom-ssh-hosts';
const live = new Set<SshTestHost>();
process.once('exit', () => {
  for (const host of live) host.stop();
});

function sh(file: string, args: string[], input?: string): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Pids of `root` and its descendants, children first found by scanning /proc (ppid field of stat). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    found.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return found;
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function netnsName(n: number): string {
  return `ccom-ssh-${n}`;
}

/** Removes what a dead owner left of subnet n: processes in its namespace, the namespace, the claim. */
function reclaim(n: number): void {
  const ns = netnsName(n);
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  killAll(pids);
  spawnSync('ip', ['netns', 'del', ns]);
  spawnSync('ip', ['link', 'del', `ccs${n}a`]);
  rmSync(join(CLAIMS, String(n)), { recursive: true, force: true });
}

/** Claims a free subnet number 1..250 for this process, atomically (mkdir). */
function claimSubnet(): number {
  mkdirSync(CLAIMS, { recursive: true });
  const start = (process.pid % 250) + 1;
  for (let i = 0; i < 250; i++) {
    const n = ((start + i - 1) % 250) + 1;
    const claim = join(CLAIMS, String(n));
    try {
      mkdirSync(claim);
      writeFileSync(join(claim, 'owner'), String(process.pid));
      return n;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = 0;
      try {
        owner = Number(readFileSync(join(claim, 'owner'), 'utf8'));
      } catch {
        continue; // being written by its claimer right now
      }
      if (owner > 0 && !alive(owner)) {
        reclaim(n);
        i--; // try the same number again
      }
    }
  }
  throw new Error('no free test subnet under 10.231.0.0/16');
}

function waitForListening(child: ChildProcess, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start within 10 s: ${log()}`)), 10_000);
    const check = () => {
      if (/Server listening on/.test(log())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code}: ${log()}`));
    });
  });
}

export interface HostOptions {
  port?: number;
  /** Replace `node` inside the host: `missing` hides it (an overlay whiteout over /usr/bin), a version string fakes `node --version`. */
  node?: 'missing' | string;
}

async function startHost(dir: string, clientPublicKey: string, options: HostOptions): Promise<SshTestHost> {
  const n = claimSubnet();
  const ns = netnsName(n);
  const [outside, inside] = [`ccs${n}a`, `ccs${n}b`];
  const address = `10.231.${n}.2`;
  const port = options.port ?? 22;
  const hostDir = join(dir, ns);
  mkdirSync(hostDir, { mode: 0o700 });
  writeFileSync(join(CLAIMS, String(n), 'owner'), String(process.pid));
  let sshd: ChildProcess | undefined;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    live.delete(host);
    if (sshd?.pid) killAll(processTree(sshd.pid));
    reclaim(n);
  };
  const host: SshTestHost = {
    name: ns,
    address,
    port,
    user: 'root',
    home: '/root',
    entry: `root@${address}:${port}`,
    hostKey: '',
    sshdPid: () => sshd?.pid ?? 0,
    run(command, input) {
      const anchor = readFileSync(join(hostDir, 'anchor.pid'), 'utf8').trim();
      const r = spawnSync('nsenter', ['-t', anchor, '-n', '-m', '--', 'sh', '-c', command], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    killSshd() {
      if (sshd?.pid) killAll(processTree(sshd.pid));
    },
    setLink(up) {
      // The host's own end goes down: this side keeps its route (marked linkdown) and packets die on
      // the veth. Downing this side would drop the route, and the default route would take them.
      sh('ip', ['-n', ns, 'link', 'set', inside, up ? 'up' : 'down']);
    },
    stop,
  };
  live.add(host);
  try {
    // A guard: should a test's link ever vanish, its packets hit this route, never the default one.
    sh('ip', ['route', 'replace', 'unreachable', '10.231.0.0/16']);
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
    sh('ip', ['link', 'set', inside, 'netns', ns]);
    sh('ip', ['addr', 'add', `10.231.${n}.1/30`, 'dev', outside]);
    sh('ip', ['link', 'set', outside, 'up']);
    sh('ip', ['-n', ns, 'addr', 'add', `${address}/30`, 'dev', inside]);
    sh('ip', ['-n', ns, 'link', 'set', inside, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);

    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', ns, '-f', join(hostDir, 'host_key')]);
    const hostKey = readFileSync(join(hostDir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    (host as { hostKey: string }).hostKey = hostKey;
    writeFileSync(join(hostDir, 'authorized_keys'), `${clientPublicKey}\n`);
    chmodSync(join(hostDir, 'authorized_keys'), 0o600);
    writeFileSync(
      join(hostDir, 'sshd_config'),
      [
        `Port ${port}`,
        `ListenAddress ${address}`,
        `HostKey ${join(hostDir, 'host_key')}`,
        `PidFile ${join(hostDir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(hostDir, 'authorized_keys')}`,
        'AuthenticationMethods publickey',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'UseDNS no',
        'PrintMotd no',
        // The config dir is outside the host's home; it is made here and only root can write it.
        'StrictModes no',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    // Inside the host's own mount namespace: a fresh home and /tmp, then node replaced if asked.
    const nodeSetup =
      options.node === 'missing'
        ? `mkdir -p ${hostDir}/ovl/up ${hostDir}/ovl/work && mknod ${hostDir}/ovl/up/node c 0 0 && mount -t overlay overlay -o lowerdir=/usr/bin,upperdir=${hostDir}/ovl/up,workdir=${hostDir}/ovl/work /usr/bin`
        : options.node !== undefined
          ? `printf '#!/bin/sh\\necho ${options.node}\\n' > ${hostDir}/fake-node && chmod 755 ${hostDir}/fake-node && mount --bind ${hostDir}/fake-node /usr/bin/node`
          : 'true';
    const script = [
      'set -e',
      'mount -t tmpfs -o mode=0700,size=1g tmpfs /root',
      'mount -t tmpfs -o mode=1777,size=256m tmpfs /tmp',
      nodeSetup,
      'mkdir -p /run/sshd',
      // An anchor outside sshd's process tree keeps the namespaces enterable (run()) after killSshd().
      `(sleep infinity </dev/null >/dev/null 2>&1 & echo $! > ${join(hostDir, 'anchor.pid')})`,
      `exec /usr/sbin/sshd -D -e -f ${join(hostDir, 'sshd_config')}`,
    ].join('\n');
    let log = '';
    sshd = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitForListening(sshd, () => log);
    return host;
  } catch (err) {
    stop();
    throw err;
  }
}

/** Starts `count` hosts; stop() (in `after` or `finally`) tears all of them down. */
export async function startSshHosts(count: number, options: HostOptions | HostOptions[] = {}): Promise<SshTestFleet> {
  const dir = mkdtempSync(join('/run', 'ccom-ssh-fleet-'));
  chmodSync(dir, 0o700);
  const identityFile = join(dir, 'id_ed25519');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ccom-test-client', '-f', identityFile]);
  const clientPublicKey = readFileSync(`${identityFile}.pub`, 'utf8').trim();
  const hosts: SshTestHost[] = [];
  const stop = () => {
    for (const host of hosts) host.stop();
    rmSync(dir, { recursive: true, force: true });
    // The guard route goes with the last fleet on this machine (a fleet starting later adds it again).
    if (readdirSync(CLAIMS).length === 0) spawnSync('ip', ['route', 'del', 'unreachable', '10.231.0.0/16']);
  };
  try {
    for (let i = 0; i < count; i++) hosts.push(await startHost(dir, clientPublicKey, Array.isArray(options) ? (options[i] ?? {}) : options));
  } catch (err) {
    stop();
    throw err;
  }
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, hosts.map((h) => `${h.port === 22 ? h.address : `[${h.address}]:${h.port}`} ${h.hostKey}\n`).join(''));
  return { hosts, identityFile, knownHosts, dir, stop };
}
