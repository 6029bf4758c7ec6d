import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { groupAlive, processRunning } from '../gates/process-group.js';

/**
 * A running instance process, either spawned by this agent or adopted after an agent restart.
 * Instances run in their own process group (detached) so that killing the agent with -9 does not
 * take them down; their output goes through a FIFO the agent reads (see InstanceLog).
 */
export interface ProcessHandle {
  readonly pid: number;
  /** Resolves with the exit description once the process is gone. */
  readonly exited: Promise<string>;
  alive(): boolean;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts an instance's command in its release directory. A start that cannot happen (the
 * directory is gone, the shell cannot be spawned) throws a StartFailure: it must never surface
 * as an unhandled 'error' event, which would take the whole agent down.
 */
export function spawnInstance(opts: { command: string; cwd: string; env: NodeJS.ProcessEnv; output: number }): ProcessHandle {
  if (!statSync(opts.cwd, { throwIfNoEntry: false })?.isDirectory()) {
    throw new StartFailure(`its release directory ${opts.cwd} is missing`, 'deploy again to build a new release, or roll back to a release whose directory still exists (see `ccom releases`)');
  }
  const child = spawn('sh', ['-c', execIfSimple(opts.command)], { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', opts.output, opts.output] });
  let gone = false;
  // Attached before anything can throw: a spawn error is emitted on the next tick.
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
  const pid = child.pid;
  if (pid === undefined) throw new StartFailure(`\`${opts.command}\` could not be started in ${opts.cwd}`, 'check that the release directory and /bin/sh are intact and that the machine has free processes and memory');
  return handle(pid, exited, () => !gone);
}

/** An instance process could not be started at all; `fix` says what the user can do. */
export class StartFailure extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'StartFailure';
  }
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
