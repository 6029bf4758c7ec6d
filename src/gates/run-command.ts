import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { redactKnown } from './redact.js';
import { signalGroup, terminateGroup } from './process-group.js';

/** What a finished (or timed-out) command left behind. */
export interface CommandResult {
  /** Exit code, or null when the command was ended by a signal. */
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  /**
   * stdout and stderr interleaved in arrival order; only the last 64 KiB are kept. The values of
   * the app's secrets (env file, required variables) are replaced by `[redacted]`.
   */
  output: string;
  durationMs: number;
}

export interface RunCommandOptions {
  cwd: string;
  /** The complete environment of the command (like `spawn`); defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Called with every output chunk as it arrives (for live progress), redacted chunk by chunk. */
  onOutput?: (chunk: string) => void;
}

const OUTPUT_LIMIT = 64 * 1024;
const KILL_GRACE_MS = 2000;
/** How long to wait for the pipes to close after the shell exits (a background child may hold them). */
const PIPE_CLOSE_GRACE_MS = 200;

/** Process groups still running, so the parent never leaves them behind when it dies. */
const liveGroups = new Set<number>();
let hooksInstalled = false;

function onParentExit(): void {
  // Last chance, synchronous: anything that ignored the SIGTERM below dies now.
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
}

function onParentSignal(signal: NodeJS.Signals): void {
  for (const pid of liveGroups) signalGroup(pid, 'SIGTERM');
  // If nobody else handles the signal, our listener must not swallow it: restore the default and re-raise.
  if (process.listenerCount(signal) === 1) {
    removeSignalHooks();
    process.kill(process.pid, signal);
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onParentExit);
  process.on('SIGINT', onParentSignal);
  process.on('SIGTERM', onParentSignal);
}

function removeSignalHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', onParentExit);
  process.off('SIGINT', onParentSignal);
  process.off('SIGTERM', onParentSignal);
}

function forgetGroup(pid: number): void {
  liveGroups.delete(pid);
  // Signal listeners change the parent's default behaviour, so only keep them while something runs.
  if (liveGroups.size === 0) removeSignalHooks();
}

async function stopGroup(pid: number): Promise<void> {
  await terminateGroup(pid, KILL_GRACE_MS);
  forgetGroup(pid);
}

function assertDirectory(cwd: string, command: string): void {
  let isDir = false;
  try {
    isDir = statSync(cwd).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new UserError(`cannot run "${command}": directory ${cwd} does not exist`, {
      fix: 'check the app directory (-C/--dir) and that it was not removed',
    });
  }
}

/**
 * Runs `sh -c command` in its own process group with stdin closed, capturing stdout and stderr
 * interleaved. On timeout the whole group gets SIGTERM, then SIGKILL after 2 s, and the result has
 * `timedOut: true`. Groups still running when the parent exits or gets SIGINT/SIGTERM are killed.
 */
export async function runCommand(command: string, opts: RunCommandOptions): Promise<CommandResult> {
  assertDirectory(opts.cwd, command);
  const started = Date.now();
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    let terminated: Promise<void> = Promise.resolve();
    let exit: { code: number | null; signal: string | null } | undefined;
    let settled = false;

    const onChunk = (chunk: string): void => {
      output += chunk;
      // Trim in big steps so long outputs stay linear.
      if (output.length > 2 * OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
      opts.onOutput?.(redactKnown(chunk));
    };
    child.stdout.setEncoding('utf8').on('data', onChunk);
    child.stderr.setEncoding('utf8').on('data', onChunk);

    const pid = child.pid;
    if (pid !== undefined) {
      liveGroups.add(pid);
      installHooks();
    }
    const timer = setTimeout(() => {
      if (pid === undefined || exit) return;
      timedOut = true;
      terminated = stopGroup(pid);
    }, opts.timeoutMs);

    const finish = (): void => {
      if (settled || !exit) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      const { code, signal } = exit;
      void terminated.then(() =>
        resolve({ code, signal, timedOut, output: redactKnown(output).slice(-OUTPUT_LIMIT), durationMs: Date.now() - started }),
      );
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      clearTimeout(timer);
      if (pid !== undefined) forgetGroup(pid);
      settled = true;
      const why = err.code === 'ENOENT' ? 'sh was not found on PATH' : err.message;
      reject(
        new UserError(`cannot run "${command}": ${why}`, {
          fix: 'make sure /bin/sh exists and PATH includes it, and that the machine can start processes',
          cause: err,
        }),
      );
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (pid !== undefined && !timedOut) forgetGroup(pid);
      setTimeout(finish, PIPE_CLOSE_GRACE_MS).unref();
    });
    child.on('close', finish);
  });
}

/** The last `n` lines of command output (trailing blank lines dropped), for failure messages. */
export function tailLines(output: string, n: number): string {
  const lines = output.replace(/\s+$/, '').split(/\r?\n/);
  return lines.slice(-n).join('\n');
}
