import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BASE_CONFIG, type FixtureApp } from './fixture-app.js';
import { runCcom, stateOf } from './ccom.js';

/**
 * Writes the fixture's base config plus `extra`, with the monitoring listener on a free port so
 * parallel test files never fight over 9464. `monitoring` adds keys under `monitoring:`;
 * `proxyPort` and `instances` replace the base config's values.
 */
export function writeOpsConfig(app: FixtureApp, extra = '', opts: { monitoring?: string; proxyPort?: number; instances?: number } = {}): void {
  let base = BASE_CONFIG;
  const replace = (from: string, to: string) => {
    // A changed BASE_CONFIG must not silently void a test.
    assert.ok(base.includes(from), `BASE_CONFIG has no "${from}"`);
    base = base.replace(from, to);
  };
  if (opts.proxyPort !== undefined) replace('proxy:\n  port: 0\n', `proxy:\n  port: ${opts.proxyPort}\n`);
  if (opts.instances !== undefined) replace('instances: 2\n', `instances: ${opts.instances}\n`);
  // BASE_CONFIG already ends its monitoring section with `port: 0`; extra monitoring keys go under it.
  replace('monitoring:\n  port: 0\n', `monitoring:\n  port: 0\n${opts.monitoring ?? ''}`);
  writeFileSync(join(app.dir, 'ccom.yaml'), `${base}${extra}`);
}

/** `ccom <command> -C dir --json`; asserts a JSON document was printed. */
export async function ccomJson(command: string, dir: string, ...flags: string[]) {
  const run = await runCcom([command, '-C', dir, '--json', ...flags]);
  assert.ok(run.json, `ccom ${command} printed no JSON document (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  return run;
}

/** `ccom deploy --json`: the run and its deployment document. */
export async function deployJson(dir: string, ...flags: string[]) {
  const run = await ccomJson('deploy', dir, ...flags);
  assert.ok(run.json.deployment, `deploy printed no deployment:\n${run.stdout}\n${run.stderr}`);
  return { run, doc: run.json.deployment };
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Backup directories on disk (`backups/<id>/` of the state dir), verification scratch dirs excluded. */
export function backupDirs(appDir: string): string[] {
  try {
    return readdirSync(join(stateOf(appDir), 'backups')).filter((n) => !n.includes('.verify-')).sort();
  } catch {
    return [];
  }
}

/** A webhook receiver on 127.0.0.1 recording every POSTed JSON body. */
export interface Webhook {
  url: string;
  events: Array<{ headers: IncomingMessage['headers']; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Resolves with the first event matching `pred` (waits up to `timeoutMs`). */
  waitFor(pred: (body: any) => boolean, timeoutMs?: number): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

export async function startWebhook(status = 200): Promise<Webhook> {
  const events: Webhook['events'] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = { unparsable: raw };
      }
      events.push({ headers: req.headers, body });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    events,
    async waitFor(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find((e) => pred(e.body));
        if (hit) return hit.body;
        if (Date.now() > deadline) throw new Error(`no matching webhook event within ${timeoutMs}ms; got ${JSON.stringify(events.map((e) => e.body))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : undefined;
}

/**
 * Parses Prometheus text exposition format strictly: HELP/TYPE lines well-formed, every sample
 * `name{labels} value` with a valid value, and every sample belonging to a declared family.
 * Throws naming the first bad line.
 */
export function parsePrometheus(text: string): { samples: PromSample[]; types: Record<string, string> } {
  const samples: PromSample[] = [];
  const types: Record<string, string> = {};
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
      const type = new RegExp(`^# TYPE (${NAME}) (\\S+)$`).exec(line);
      if (type) {
        if (!TYPES.has(type[2]!)) throw new Error(`unknown metric type, ${where}`);
        types[type[1]!] = type[2]!;
      } else if (!help) throw new Error(`malformed comment, ${where}`);
      return;
    }
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new Error(`malformed sample, ${where}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest !== '') {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`malformed labels, ${where}`);
      labels[l[1]!] = l[2]!;
      rest = rest.slice(l[0].length);
    }
    const value = parseValue(m[3]!);
    if (value === undefined) throw new Error(`malformed value, ${where}`);
    const name = m[1]!;
    const family = types[name] ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!types[family]) throw new Error(`sample of an undeclared family, ${where}`);
    samples.push({ name, labels, value });
  });
  assert.ok(text.endsWith('\n'), 'the exposition must end with a newline');
  return { samples, types };
}

/** Samples named `name` whose labels include all of `labels`. */
export function series(samples: PromSample[], name: string, labels: Record<string, string> = {}): PromSample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/**
 * Server sources for operations tests, with the fixture's `/` and `/healthz` behaviour.
 * - `checkout`: `POST /checkout?n=N` fails (500) when N is a multiple of 4, else 200.
 * - `memory-hog`: `GET /hog` answers, then makes the process hold ~150 MB (touched, so
 *   resident) for good; its restarted process starts small again.
 * - both: `GET /slow?ms=N` answers after N ms.
 */
export function opsServerSource(version: string, mode: 'checkout' | 'memory-hog'): string {
  return `
const http = require('node:http');
const MODE = ${JSON.stringify(mode)};
const VERSION = ${JSON.stringify(version)};
const held = [];
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/healthz') { res.writeHead(200); return res.end('ok'); }
  if (MODE === 'checkout' && url.pathname === '/checkout' && req.method === 'POST') {
    req.resume();
    const fail = Number(url.searchParams.get('n')) % 4 === 0;
    res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' });
    return res.end(fail ? 'payment failed' : 'paid');
  }
  if (MODE === 'memory-hog' && url.pathname === '/hog') {
    // Answer first: the growth, not this request, is what the memory limit must catch.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('will hold 150 MB, rss now ' + Math.round(process.memoryUsage().rss / 1e6) + ' MB');
    return setTimeout(() => { if (held.length === 0) for (let i = 0; i < 15; i++) held.push(Buffer.alloc(10e6, i + 1)); }, 50);
  }
  if (url.pathname === '/slow') {
    return setTimeout(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('slow ' + VERSION); }, Number(url.searchParams.get('ms') || 500));
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok ' + VERSION);
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening', process.env.PORT, VERSION, MODE));
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;
}

export function writeOpsServer(app: FixtureApp, version: string, mode: 'checkout' | 'memory-hog'): void {
  writeFileSync(join(app.dir, 'server.js'), opsServerSource(version, mode));
}
