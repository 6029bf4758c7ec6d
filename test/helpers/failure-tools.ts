import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_CONFIG, type FixtureApp } from './fixture-app.js';
import { ccomEnv, get, runCcom, stateOf, type CcomRun } from './ccom.js';

const BIN = fileURLToPath(new URL('../../bin/ccom.js', import.meta.url));

/** A ccom run whose pid is known while it runs (to check who a lock names). */
export interface RunningCcom {
  pid: number;
  done: Promise<CcomRun>;
}

/** Like runCcom, but returns at once with the child's pid. */
export function startCcom(args: string[]): RunningCcom {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: ccomEnv(args),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const done = new Promise<CcomRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = args.includes('--json') ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
  if (child.pid === undefined) throw new Error('ccom did not start');
  return { pid: child.pid, done };
}

/**
 * Writes the fixture's base config with some lines replaced, plus extra lines. Throws when a
 * replacement does not apply, so a changed BASE_CONFIG cannot silently void a test.
 */
export function writeConfig(app: FixtureApp, replace: Array<[string, string]>, extra = ''): void {
  let text = BASE_CONFIG;
  for (const [from, to] of replace) {
    if (!text.includes(from)) throw new Error(`BASE_CONFIG has no "${from}"`);
    text = text.replace(from, to);
  }
  writeFileSync(join(app.dir, 'ccom.yaml'), text + extra);
}

/** Runs `ccom releases --json` and returns the ids, newest first. */
export async function releaseIds(dir: string): Promise<string[]> {
  const r = await runCcom(['releases', '-C', dir, '--json']);
  if (r.code !== 0) throw new Error(`ccom releases failed: ${r.stderr}`);
  return (r.json as { releases: Array<{ id: string }> }).releases.map((x) => x.id);
}

/** The release directories on disk (manifests folded into their release). */
export function releaseDirs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(stateOf(dir), 'releases'));
  } catch {
    return [];
  }
  return [...new Set(names.map((n) => n.replace(/\.manifest\.json$/, '')))];
}

/** What one GET to the public URL saw: a response, or the error that replaced it. */
export type Sample = { status: number; body: string } | { error: string };

/** Sends a GET to `url` every `everyMs` until stopped, as a user refreshing the page would. */
export function pollUrl(url: string, everyMs = 20): { stop(): Promise<Sample[]> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        samples.push(await get(url));
      } catch (err) {
        samples.push({ error: String((err as Error).cause ?? err) });
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** A pid that belonged to a process which has already exited. */
export function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => (child.pid === undefined ? reject(new Error('no pid')) : resolve(child.pid)));
  });
}

/** Another program holding a TCP port on 127.0.0.1. */
export async function occupyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { port: (server.address() as AddressInfo).port, server };
}
