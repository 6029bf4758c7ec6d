import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { teardownApp } from './ccom.js';
import { onCleanup } from './cleanup.js';
import { freePort } from './free-port.js';
import { assertNotInterrupted, killPids, pidsWithEnv, sleep, timedRun, type TimedRun } from './proc.js';

const CANDIDATES = [
  process.env.PM2_BIN,
  fileURLToPath(new URL('../../node_modules/.bin/pm2', import.meta.url)),
  '/tmp/pm2-bench/node_modules/.bin/pm2',
];

/** The PM2 CLI to compare against: PM2_BIN, the repo's devDependency, or /tmp/pm2-bench. */
export function findPm2(): string | undefined {
  return CANDIDATES.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
}

/** The version of the PM2 package behind `bin`, read from its package.json (no daemon needed). */
export function pm2Version(bin: string): string | undefined {
  try {
    const pkg = join(dirname(realpathSync(bin)), '..', 'package.json');
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export function pm2SkipLine(what: string): string {
  return `skip: ${what} — pm2 not found (set PM2_BIN, add pm2 as a devDependency, or \`npm install --prefix /tmp/pm2-bench pm2@7.0.4\`)`;
}

/**
 * PM2 with its own PM2_HOME in a temp dir, so the benchmark never touches the user's ~/.pm2 or
 * a daemon someone else runs. Every PM2 command, even `--version`, starts this home's daemon.
 */
export class PrivatePm2 {
  readonly home: string;

  constructor(readonly bin: string) {
    assertNotInterrupted('a PM2 home');
    this.home = realpathSync(mkdtempSync(join(tmpdir(), 'ccom-bench-pm2home-')));
  }

  /** `env` reaches the apps `pm2 start` launches (PM2 passes the CLI's environment on). */
  run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TimedRun> {
    return timedRun(this.bin, args, { ...env, PM2_HOME: this.home, NO_COLOR: '1' });
  }

  async mustRun(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TimedRun> {
    const run = await this.run(args, env);
    if (run.code !== 0) throw new Error(`pm2 ${args.join(' ')} exited ${run.code}\n${run.stderr.slice(-2000)}${run.stdout.slice(-2000)}`);
    return run;
  }

  daemonPid(): number | undefined {
    const file = join(this.home, 'pm2.pid');
    return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
  }

  /**
   * `pm2 kill`, then SIGKILL whatever still runs with this PM2_HOME: the daemon, workers, or a
   * daemon still starting when a run was interrupted (so it had no pid file or title yet).
   */
  async stop(): Promise<void> {
    const ours = () => pidsWithEnv(`PM2_HOME=${this.home}`);
    // Any PM2 command starts a daemon when none runs; do not start one just to kill it.
    if (ours().length > 0) {
      await timedRun(this.bin, ['kill'], { PM2_HOME: this.home }, { cleanup: true }).catch(() => undefined);
    }
    for (let i = 0; i < 10 && ours().length > 0; i++) await sleep(100);
    killPids(ours());
    await sleep(300); // a detached daemon spawned just before the interrupt may appear late
    killPids(ours());
    rmSync(this.home, { recursive: true, force: true });
  }
}

/**
 * Runs `fn` with the app in `dir` started as a PM2 cluster of 2 on a free PORT, under a private
 * PM2_HOME; PM2 and the app are stopped afterwards, also when the run is interrupted.
 */
export async function withPm2Cluster<T>(bin: string, dir: string, fn: (pm2: PrivatePm2, port: number) => Promise<T>): Promise<T> {
  const pm2 = new PrivatePm2(bin);
  const stop = onCleanup(async () => {
    await pm2.stop();
    await teardownApp(dir);
  });
  try {
    const port = await freePort();
    await pm2.mustRun(['start', join(dir, 'server.js'), '--name', 'bench', '-i', '2', '--cwd', dir], { PORT: String(port) });
    return await fn(pm2, port);
  } finally {
    await stop();
  }
}
