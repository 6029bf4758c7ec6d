import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { onCleanup } from '../lib/cleanup.js';
import { killPids, sleep } from '../lib/proc.js';

/** A long-running process a benchmark started (an app, nginx, a proxy), stopped by its pid. */
export interface Service {
  readonly pid: number;
  /** SIGTERM, then SIGKILL (of it and its direct children) if it has not exited within 3 s. */
  stop(): Promise<void>;
  /** "running", or how it ended and the tail of its output: for error messages. */
  describe(): string;
}

export interface ServiceOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Ready once this port on 127.0.0.1 accepts a TCP connection. */
  readyPort?: number;
  /** Ready once stdout has a line matching this; the match is handed back as `readyMatch`. */
  readyLine?: RegExp;
  timeoutMs?: number;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Direct children of a pid (nginx's worker), so a SIGKILLed master leaves no orphan. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once `port` on 127.0.0.1 accepts a connection (for apps a manager like PM2 started). */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portAccepts(port))) {
    if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Starts `cmd` and resolves once it is ready; fails with its output when it exits or times out first. */
export async function startService(name: string, cmd: string, args: string[], opts: ServiceOptions): Promise<Service & { readyMatch?: RegExpMatchArray }> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) await new Promise((_, reject) => child.once('error', reject));
  const pid = child.pid as number;
  let output = '';
  let readyMatch: RegExpMatchArray | undefined;
  let stopping = false;
  // Keep only the tail: a chatty service must not grow the benchmark's memory.
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    if (opts.readyLine && !readyMatch) readyMatch = output.match(opts.readyLine) ?? undefined;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const describe = () => {
    if (!exited(child)) return `${name} (pid ${pid}) is running`;
    const how = child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
    return `${name} (pid ${pid}) ${how}${stopping ? ' (stopped by the benchmark)' : ''}; its output ends:\n${output}`;
  };
  const stop = onCleanup(async () => {
    stopping = true;
    if (exited(child)) return;
    const kids = childrenOf(pid);
    child.kill('SIGTERM');
    for (let i = 0; i < 30 && !exited(child); i++) await sleep(100);
    if (!exited(child)) killPids([pid, ...kids]);
  });

  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    if (exited(child)) break;
    const ready = opts.readyLine ? readyMatch !== undefined : opts.readyPort !== undefined && (await portAccepts(opts.readyPort));
    if (ready) return { pid, stop, describe, readyMatch };
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  await stop();
  throw new Error(`${name} did not become ready: ${exited(child) ? describe() : `timed out; its output ends:\n${output}`}`);
}
