import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { appNameOf } from '../../src/app-state.js';
import { parentPid } from '../../src/gates/process-group.js';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ccom.js', import.meta.url));

/**
 * Each fixture app keeps its state in a CCOM_HOME of its own (test files run two at a time, and
 * all fixtures are called `fixture`); any other directory uses one temp home per test process.
 */
const homes = new Map<string, string>();
let processHome: string | undefined;

// A child a test spawns by hand with `process.env` must never reach the user's real state
// (~/.local/state/ccom): tests of one run would meet each other's `fixture` there.
if (!process.env.CCOM_HOME) {
  const fallback = mkdtempSync(join(tmpdir(), 'ccom-home-unset-'));
  process.once('exit', () => rmSync(fallback, { recursive: true, force: true }));
  process.env.CCOM_HOME = fallback;
}

export function setCcomHome(appDir: string, home: string): void {
  homes.set(resolve(appDir), home);
}

export function ccomHomeFor(appDir: string): string {
  const home = homes.get(resolve(appDir));
  if (home) return home;
  if (!processHome) {
    const made = mkdtempSync(join(tmpdir(), 'ccom-home-'));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    processHome = made;
  }
  return processHome;
}

/** The app's state dir (`$CCOM_HOME/apps/<app>/`), as ccom finds it. */
export function stateOf(appDir: string): string {
  return join(ccomHomeFor(appDir), 'apps', appNameOf(appDir) ?? 'fixture');
}

/** The environment a ccom run with these arguments gets: CI output and the app's CCOM_HOME. */
export function ccomEnv(args: string[], env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const flag = args.findIndex((a) => a === '-C' || a === '--dir');
  const dir = flag === -1 ? process.cwd() : (args[flag + 1] ?? '.');
  return { ...process.env, CI: 'true', NO_COLOR: '1', CCOM_HOME: ccomHomeFor(dir), ...env };
}

export interface CcomRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when the command ran with --json. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Runs the built ccom CLI as a real child process, like a user or CI would (plain output).
 * `fileLimit` runs it from a shell whose open-files limit is that (the agent it starts inherits it).
 */
export function runCcom(args: string[], env: NodeJS.ProcessEnv = {}, opts: { fileLimit?: number } = {}): Promise<CcomRun> {
  const command = opts.fileLimit === undefined
    ? [process.execPath, BIN, ...args]
    : ['/bin/sh', '-c', `ulimit -n ${opts.fileLimit} && exec "$0" "$@"`, process.execPath, BIN, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), {
      env: ccomEnv(args, env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown;
      if (args.includes('--json')) {
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}

/** GET through the public URL; resolves to status and body. */
export async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** The parent pid of `pid` (from /proc). */
export function parentOf(pid: number): number {
  return parentPid(pid) ?? 0;
}

/** True when `pid` is an agent guardian (the /bin/sh loop that restarts the agent). */
export function isGuardian(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/agent-guardian.sh\0');
  } catch {
    return false;
  }
}
