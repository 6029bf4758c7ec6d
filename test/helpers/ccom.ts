import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parentPid } from '../../src/gates/process-group.js';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ccom.js', import.meta.url));

export interface CcomRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when the command ran with --json. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs the built ccom CLI as a real child process, like a user or CI would (plain output). */
export function runCcom(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CcomRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env },
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
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/.ccom/agent-guardian.sh\0');
  } catch {
    return false;
  }
}
