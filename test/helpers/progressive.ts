import { Agent, request } from 'node:http';
import { runCcom } from './ccom.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `ccom status --json`, as a user would read it. */
export async function statusOf(dir: string) {
  const r = await runCcom(['status', '-C', dir, '--json']);
  if (r.code !== 0 || !r.json) throw new Error(`ccom status failed (${r.code}): ${r.stderr}`);
  return r.json as {
    live: string | null;
    url: string | null;
    releases: Array<{ id: string; weight: number; instances: Array<{ id: string; pid: number; healthy: boolean; state: string }> }>;
    deployment: null | { id: string; paused: string | null; step: string | null };
  };
}

/** Polls `ccom status` until a deployment waits at a pause; returns that status. */
export async function waitForPause(dir: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await statusOf(dir);
    if (status.deployment?.paused) return status;
    await sleep(100);
  }
  throw new Error(`no paused deployment within ${timeoutMs}ms`);
}

export interface Sampled {
  /** Responses per body (e.g. "ok v2"), and non-200 statuses as "HTTP <status>". */
  bodies: Record<string, number>;
  /** The first `ccom_bucket` cookie handed out with each body. */
  cookieFor: Record<string, string>;
  /** Responses that carried a `set-cookie: ccom_bucket=…`. */
  cookies: number;
}

/**
 * `count` GETs to `url` (127.0.0.1), `concurrency` at a time, each as a fresh client (no cookie
 * jar, a new connection) unless `cookie` is given, which every request then sends.
 */
export async function sample(url: string, count: number, concurrency: number, cookie?: string): Promise<Sampled> {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error('samples only target 127.0.0.1');
  const out: Sampled = { bodies: {}, cookieFor: {}, cookies: 0 };
  const agent = new Agent({ keepAlive: false });
  let left = count;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const headers = cookie ? { cookie } : {};
      const req = request({ host: target.hostname, port: target.port, path: '/', agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const key = res.statusCode === 200 ? body : `HTTP ${res.statusCode}`;
          out.bodies[key] = (out.bodies[key] ?? 0) + 1;
          const bucket = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('ccom_bucket='));
          if (bucket) {
            out.cookies++;
            out.cookieFor[key] ??= bucket.split(';')[0]!;
          }
          resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await once();
    }),
  );
  agent.destroy();
  return out;
}

/** The share of `key` among all sampled responses. */
export function shareOf(s: Sampled, key: string): number {
  const total = Object.values(s.bodies).reduce((a, b) => a + b, 0);
  return (s.bodies[key] ?? 0) / total;
}

/**
 * Waits for a started `ccom deploy` to end; one still waiting at a pause (the test failed before
 * deciding) is aborted first, so a failing test cannot hang on it.
 */
export async function finishDeploy(dir: string, deploy: { done: Promise<unknown> }): Promise<void> {
  const pending = Symbol('pending');
  if ((await Promise.race([deploy.done, sleep(200).then(() => pending)])) === pending) {
    await runCcom(['abort', '-C', dir]);
    await deploy.done;
  }
}
