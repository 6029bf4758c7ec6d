import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface TimedRun {
  code: number;
  stdout: string;
  stderr: string;
  /** From spawn to exit, as a user timing the command would see it. */
  wallMs: number;
  /** Epoch ms at spawn and at exit, to line up with timestamps the child reports itself. */
  spawnedAt: number;
  exitedAt: number;
}

/** Children still running, so an interrupted benchmark can stop a command mid-flight. */
const running = new Set<number>();
let interrupted = false;

/**
 * After Ctrl-C: kills the commands in flight and refuses to start new ones, except cleanups,
 * so the benchmark's own flow cannot start anything while its cleanups run.
 */
export function interrupt(): void {
  interrupted = true;
  killPids([...running]);
}

/** Throws once the run was interrupted: nothing new (temp dirs, processes) may be created. */
export function assertNotInterrupted(what: string): void {
  if (interrupted) throw new Error(`interrupted: not creating ${what}`);
}

export interface RunOptions {
  cwd?: string;
  /** A cleanup command (ccom down, pm2 kill): still allowed after an interrupt. */
  cleanup?: boolean;
}

/** Runs a real process to completion and times it; output is collected, never shown. */
export function timedRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, opts: RunOptions = {}): Promise<TimedRun> {
  if (!opts.cleanup) {
    try {
      assertNotInterrupted(`a ${cmd} process`);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const spawnedAt = Date.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) running.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    // 'exit' rather than 'close': a daemon the command leaves behind may hold the pipes open.
    child.on('exit', (code) => {
      const wallMs = performance.now() - started;
      const exitedAt = Date.now();
      if (child.pid !== undefined) running.delete(child.pid);
      setImmediate(() => resolve({ code: code ?? -1, stdout, stderr, wallMs, spawnedAt, exitedAt }));
    });
  });
}

/** Runs a command and fails loudly when it does not exit 0 (setup steps, not measurements). */
export async function mustRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TimedRun> {
  const run = await timedRun(cmd, args, env);
  if (run.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${run.code}\n${run.stderr.slice(-2000)}${run.stdout.slice(-2000)}`);
  return run;
}

/** Resident memory of a live process in MB, from /proc/<pid>/status (VmRSS, in kB). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** Pids (other than ours) for which `matches` holds; processes that vanish mid-scan are skipped. */
function scanProc(matches: (pid: number) => boolean): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (matches(pid)) found.push(pid);
    } catch {
      /* exited meanwhile, or not ours to read */
    }
  }
  return found;
}

/**
 * Pids whose working directory lies inside `dir`: the agent (cwd = app dir) and its instances
 * (cwd = a release dir inside it). A last-resort cleanup that cannot touch anything else.
 */
export function pidsUnder(dir: string): number[] {
  return scanProc((pid) => {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    return cwd === dir || cwd.startsWith(`${dir}/`);
  });
}

/**
 * Pids whose environment holds exactly `entry` (e.g. `PM2_HOME=/tmp/x`): finds a daemon even
 * while it is still starting, before it has renamed itself or written its pid file.
 */
export function pidsWithEnv(entry: string): number[] {
  return scanProc((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry));
}

export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
