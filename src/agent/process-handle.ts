import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { groupAlive, processRunning } from '../gates/process-group.js';

/**
 * A running instance process, either spawned by this agent or adopted after an agent restart.
 * Instances run in their own process group (detached) so that killing the agent with -9 does not
 * take them down, and write straight to their log file so they never depend on the agent's pipes.
 */
export interface ProcessHandle {
  readonly pid: number;
  /** Resolves with the exit description once the process is gone. */
  readonly exited: Promise<string>;
  alive(): boolean;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs: number): Promise<void>;
}

export function spawnInstance(opts: { command: string; cwd: string; env: NodeJS.ProcessEnv; logFile: string }): ProcessHandle {
  mkdirSync(dirname(opts.logFile), { recursive: true, mode: 0o700 });
  const fd = openSync(opts.logFile, 'a', 0o600);
  let child;
  try {
    child = spawn('sh', ['-c', execIfSimple(opts.command)], { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start \`${opts.command}\` in ${opts.cwd}`);
  let gone = false;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      gone = true;
      resolve(`could not start: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      gone = true;
      resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
  });
  return handle(pid, exited, () => !gone);
}

/** Adopts a process that a previous agent started; liveness is polled since it is not our child. */
export function adoptInstance(pid: number): ProcessHandle {
  let gone = !pidAlive(pid);
  const exited = new Promise<string>((resolve) => {
    if (gone) return resolve('was gone when the agent restarted');
    const timer = setInterval(() => {
      if (pidAlive(pid)) return;
      gone = true;
      clearInterval(timer);
      resolve('exited (adopted process, exit code unknown)');
    }, 200);
    timer.unref();
  });
  return handle(pid, exited, () => !gone && pidAlive(pid));
}

function handle(pid: number, exited: Promise<string>, alive: () => boolean): ProcessHandle {
  return {
    pid,
    exited,
    alive,
    async stop(graceMs) {
      // Even when the leader is gone, other members of its group (a shell's children) may
      // survive it and hold the port: the whole group is stopped.
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && (alive() || groupAlive(pid))) await sleep(25);
      signalGroup(pid, 'SIGKILL');
      if (alive()) await exited;
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export function pidAlive(pid: number): boolean {
  return processRunning(pid);
}

/** True when `pid` is an instance this app's agent started (its environment carries the id). */
export function isOurInstance(pid: number, instanceId: string): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    return environ.split('\0').includes(`CCOM_INSTANCE=${instanceId}`);
  } catch {
    return false;
  }
}

/**
 * `exec` makes the app itself the instance's process (pid, signals, CPU and memory) instead of a
 * shell waiting on it; only for simple commands, where it cannot skip anything that follows.
 */
export function execIfSimple(command: string): string {
  return /^[^;&|()`\n]+$/.test(command.trim()) && !/^exec\s/.test(command.trim()) ? `exec ${command.trim()}` : command;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
