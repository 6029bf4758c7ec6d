/**
 * A bad canary (every 5th request fails) under steady load: how long until ccom rolls it back,
 * and how many requests users saw fail, against Flagger's default analysis interval (1 minute:
 * its first check runs a full interval after the canary takes traffic) as the reference.
 * Usage: node --import tsx bench/canary-detection.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ccom, teardownApp } from './lib/ccom.js';
import { makeFixtureApp } from './lib/fixture.js';
import { isMain, runAsScript } from './lib/main.js';
import type { BenchResult } from './lib/report.js';
import { startKeepAliveLoad } from './peer/keepalive-load.js';

const RUNS = 5;
const FLAGGER_INTERVAL_MS = 60_000;

/** A release that fails one request in five once it serves real traffic (smoke tests pass). */
const FLAKY = `const http = require('node:http');
let n = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/healthz' || req.headers['user-agent'] === 'ccom-smoke') { res.writeHead(200); return res.end('ok'); }
  if (++n % 5 === 0) { res.writeHead(500); return res.end('boom'); }
  res.writeHead(200); res.end('ok canary');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;

interface Trial {
  detectionMs: number;
  rollbackMs: number;
  failed: number;
  total: number;
  durationMs: number;
}

async function trial(): Promise<Trial> {
  const dir = makeFixtureApp('ccom-bench-canary-');
  try {
    const first = await ccom(['deploy', '-C', dir, '--json']);
    const url = (JSON.parse(first.stdout) as { deployment: { url: string } }).deployment.url;
    const good = readFileSync(join(dir, 'server.js'), 'utf8');
    writeFileSync(join(dir, 'server.js'), FLAKY);
    writeFileSync(join(dir, 'ccom.yaml'), `${readFileSync(join(dir, 'ccom.yaml'), 'utf8')}strategy: canary\ncanary:\n  steps: [10, 50, 100]\n  interval: 30s\n`);
    const load = startKeepAliveLoad(url, 16);
    await new Promise((r) => setTimeout(r, 1000));
    const started = performance.now();
    const run = await ccom(['deploy', '-C', dir, '--json']);
    const durationMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 500));
    const report = await load.stop();
    writeFileSync(join(dir, 'server.js'), good);
    const doc = (JSON.parse(run.stdout) as { deployment: { status: string; steps: Array<{ name: string; durationMs: number }> } }).deployment;
    if (doc.status !== 'rolled_back') throw new Error(`the bad canary was not rolled back (status ${doc.status})`);
    const step = (name: string) => doc.steps.find((s) => s.name === name)?.durationMs ?? NaN;
    return { detectionMs: step('canary:10%'), rollbackMs: step('rollback'), failed: report.failed, total: report.ok + report.failed, durationMs };
  } finally {
    await teardownApp(dir);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function canaryDetection(): Promise<BenchResult> {
  const trials: Trial[] = [];
  for (let i = 0; i < RUNS; i++) trials.push(await trial());
  const detection = median(trials.map((t) => t.detectionMs + t.rollbackMs));
  const failed = median(trials.map((t) => t.failed));
  // What the same canary would cost users if the first check came after Flagger's 1-minute
  // interval: the failure rate users saw per ms of canary traffic, times that interval.
  const perMs = median(trials.map((t) => t.failed / Math.max(1, t.detectionMs + t.rollbackMs)));
  const flaggerFailed = perMs * FLAGGER_INTERVAL_MS;
  return {
    name: 'canary-detection',
    title: 'Bad canary (20% errors at a 10% step, 16 keep-alive clients): detection to rollback',
    rows: [
      { label: 'ccom: canary traffic start → rollback done', unit: 'ms', median: detection, p90: Math.max(...trials.map((t) => t.detectionMs + t.rollbackMs)), n: RUNS },
      { label: 'ccom: rollback step alone', unit: 'ms', median: median(trials.map((t) => t.rollbackMs)), n: RUNS },
      { label: 'Flagger default: first analysis after', unit: 'ms', value: FLAGGER_INTERVAL_MS },
    ],
    ratios: [
      { label: 'ccom detection+rollback / Flagger 1-minute interval', value: detection / FLAGGER_INTERVAL_MS },
      { label: `failed requests users saw: ccom ${failed} (median of ${RUNS}) vs ~${Math.round(flaggerFailed)} at the same rate over 1 minute`, value: flaggerFailed > 0 ? failed / flaggerFailed : null },
    ],
    notes: trials.map((t, i) => `run ${i + 1}: detected in ${Math.round(t.detectionMs)} ms, rolled back in ${Math.round(t.rollbackMs)} ms, ${t.failed} of ${t.total} requests failed (${((100 * t.failed) / t.total).toFixed(3)}%)`),
  };
}

if (isMain(import.meta.url)) runAsScript(canaryDetection);
