import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { timedRun } from '../lib/proc.js';

/** What one wrk run measured; latencies are wrk's own (HdrHistogram, coordinated-omission naive). */
export interface WrkRun {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Responses outside 2xx/3xx, and socket errors (connect, read, write, timeout) summed. */
  non2xx: number;
  socketErrors: number;
}

/** wrk on PATH (the Debian package puts it in /usr/bin). */
export function findWrk(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'wrk');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!match) throw new Error(`wrk: unreadable duration "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

function field(output: string, pattern: RegExp, what: string): string {
  const match = pattern.exec(output);
  if (!match?.[1]) throw new Error(`wrk: no ${what} in its output:\n${output}`);
  return match[1];
}

/** Reads wrk's `--latency` report. */
export function parseWrk(output: string): WrkRun {
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSec: Number(field(output, /Requests\/sec:\s+([\d.]+)/, 'Requests/sec')),
    p50Ms: durationMs(field(output, /^\s+50%\s+(\S+)/m, 'p50')),
    p99Ms: durationMs(field(output, /^\s+99%\s+(\S+)/m, 'p99')),
    requests: Number(field(output, /(\d+) requests in/, 'request count')),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

/** For https URLs: a Lua script (`-s`) and environment for wrk (the TLS benchmark's pin). */
export interface WrkOptions {
  script?: string;
  env?: NodeJS.ProcessEnv;
}

/** `wrk -t1 -c<connections> -d<seconds>s --latency [-s script] <url>`, parsed. */
export async function runWrk(bin: string, url: string, seconds: number, connections: number, options: WrkOptions = {}): Promise<WrkRun> {
  const script = options.script ? ['-s', options.script] : [];
  const run = await timedRun(bin, ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...script, url], options.env);
  if (run.code !== 0) throw new Error(`wrk exited ${run.code}:\n${run.stderr}${run.stdout}`);
  return parseWrk(run.stdout);
}
