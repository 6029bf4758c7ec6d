import { copyFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureApp, type FixtureApp } from './fixture-app.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/flags-app/', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/**
 * The flags fixture app (test/fixtures/flags-app) in a temp dir: the real OpenFeature server SDK
 * and OFREP provider (this repo's pinned dev dependencies, found through NODE_PATH).
 */
export function flagsApp(extra = ''): FixtureApp & { flagsFile: string } {
  const app = fixtureApp('v1');
  copyFileSync(join(FIXTURE, 'server.js'), join(app.dir, 'server.js'));
  copyFileSync(join(FIXTURE, 'flags.json'), join(app.dir, 'flags.json'));
  app.config(`flags:\n  file: flags.json\nenv:\n  values:\n    NODE_PATH: ${NODE_MODULES}\n${extra}`);
  return Object.assign(app, { flagsFile: join(app.dir, 'flags.json') });
}

export function writeFlags(app: { flagsFile: string }, flags: unknown): void {
  writeFileSync(app.flagsFile, JSON.stringify({ flags }, null, 2));
}

export interface Answer {
  status: number;
  body: string;
  cookie: string | undefined;
}

/** One request on a fresh connection, with the cookie (or headers) given; returns the ccom_bucket cookie set. */
export function ask(url: string, opts: { path?: string; cookie?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const target = new URL(opts.path ?? '/', url);
  if (target.hostname !== '127.0.0.1') throw new Error('only 127.0.0.1');
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, agent: false, headers: { ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const set = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('ccom_bucket='));
        resolve({ status: res.statusCode ?? 0, body, cookie: set?.split(';')[0] });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
