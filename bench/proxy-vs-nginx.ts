/**
 * Throughput and latency of ccom's proxy against nginx, both proxying to the same app instance,
 * and the app alone. ccom's Router runs in its own node process (the agent's proxy without its
 * supervisor), so every peer reaches the very same instance; the full deploy path (the agent a
 * `ccom deploy` starts, in front of its own instance) is measured once at the end.
 */
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { agentPid, deployJson, teardownApp } from './lib/ccom.js';
import { onCleanup } from './lib/cleanup.js';
import { isMain } from './lib/main.js';
import { ratio, type BenchRatio, type BenchResult, type BenchRow } from './lib/report.js';
import { cpuSeconds } from './peer/cpu.js';
import { markdownTable, num } from './peer/markdown.js';
import { findNginx, startNginx } from './peer/nginx.js';
import { makeOriginApp, startOriginApp } from './peer/origin-app.js';
import { startRouterProcess } from './peer/router.js';
import { findWrk, runWrk, type WrkRun } from './peer/wrk.js';

const WARMUP_S = 3;
const MEASURE_S = 10;
const CONNECTIONS = 50;
const ROUNDS = 2;

/** A wrk run plus the CPU the proxy process(es) used per request during it (none for direct). */
export interface PeerRun extends WrkRun {
  proxyCpuUsPerRequest: number | null;
}

/** One peer's runs; `best` is the run with the highest req/s, reported whole (its own p50/p99). */
export interface PeerMeasurement {
  key: 'direct' | 'nginx' | 'ccom-router' | 'ccom-agent';
  label: string;
  runs: PeerRun[];
  best: PeerRun | null;
  skipped?: string;
}

export interface ProxyVsNginxResult extends BenchResult {
  peers: PeerMeasurement[];
  load: string;
}

interface Peer {
  measurement: PeerMeasurement;
  url: string;
  /** The proxy's processes, whose CPU time is read around each run. */
  proxyPids: number[];
}

function bestOf(runs: PeerRun[]): PeerRun | null {
  return runs.reduce<PeerRun | null>((best, r) => (best === null || r.requestsPerSec > best.requestsPerSec ? r : best), null);
}

async function measure(wrk: string, url: string, proxyPids: number[]): Promise<PeerRun> {
  const before = cpuSeconds(proxyPids);
  const run = await runWrk(wrk, url, MEASURE_S, CONNECTIONS);
  const used = cpuSeconds(proxyPids) - before;
  return { ...run, proxyCpuUsPerRequest: proxyPids.length === 0 || run.requests === 0 ? null : (used * 1e6) / run.requests };
}

/** Warm-up (first round only), then `rounds` measurements per peer, interleaved: A B C, A B C. */
async function measureInterleaved(wrk: string, peers: Peer[], rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const peer of peers) {
      if (round === 0) await runWrk(wrk, peer.url, WARMUP_S, CONNECTIONS);
      peer.measurement.runs.push(await measure(wrk, peer.url, peer.proxyPids));
    }
  }
  for (const peer of peers) peer.measurement.best = bestOf(peer.measurement.runs);
}

/** Direct, nginx and ccom's Router, all in front of one instance of the bench app. */
async function measureSameInstance(wrk: string, notes: string[]): Promise<PeerMeasurement[]> {
  const dir = makeOriginApp(1);
  const stops: Array<() => Promise<void>> = [];
  const cleanup = onCleanup(async () => {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const app = await startOriginApp(dir);
    stops.push(app.stop);
    const peers: Peer[] = [{ url: `http://127.0.0.1:${app.port}/`, proxyPids: [], measurement: { key: 'direct', label: 'app directly (no proxy)', runs: [], best: null } }];
    const nginxBin = findNginx();
    const nginx: PeerMeasurement = { key: 'nginx', label: 'nginx (1 worker, keepalive 64)', runs: [], best: null };
    if (nginxBin) {
      const server = await startNginx(nginxBin, app.port);
      stops.push(server.stop);
      peers.push({ url: `http://127.0.0.1:${server.port}/`, proxyPids: [server.pid], measurement: nginx });
    } else {
      nginx.skipped = 'nginx not found (apt-get install nginx, or set NGINX_BIN)';
      notes.push(`skip: ${nginx.skipped}`);
    }
    const router = await startRouterProcess(app.port);
    stops.push(router.stop);
    peers.push({ url: `http://127.0.0.1:${router.port}/`, proxyPids: [router.pid], measurement: { key: 'ccom-router', label: 'ccom proxy (Router, own process)', runs: [], best: null } });

    await measureInterleaved(wrk, peers, ROUNDS);
    const measured = peers.map((p) => p.measurement);
    return nginx.skipped ? [measured[0]!, nginx, ...measured.slice(1)] : measured;
  } finally {
    await cleanup();
  }
}

/** The agent `ccom deploy` starts (instances: 1), in front of its own instance: measured once. */
async function measureDeployPath(wrk: string): Promise<PeerMeasurement> {
  const dir = makeOriginApp(1);
  const teardown = onCleanup(() => teardownApp(dir));
  try {
    const { doc } = await deployJson(dir);
    const url = `${doc.url.replace(/\/$/, '')}/`;
    await runWrk(wrk, url, WARMUP_S, CONNECTIONS);
    const runs = [await measure(wrk, url, [agentPid(dir)])];
    return { key: 'ccom-agent', label: 'ccom agent (full deploy path, 1 run)', runs, best: bestOf(runs) };
  } finally {
    await teardown();
  }
}

function rowsOf(peers: PeerMeasurement[]): BenchRow[] {
  return peers.flatMap((p) =>
    p.best === null
      ? []
      : [
          { label: `${p.key} p50`, unit: 'ms' as const, value: p.best.p50Ms },
          { label: `${p.key} p99`, unit: 'ms' as const, value: p.best.p99Ms },
        ],
  );
}

function ratiosOf(peers: PeerMeasurement[]): BenchRatio[] {
  const best = (key: PeerMeasurement['key']) => peers.find((p) => p.key === key)?.best ?? undefined;
  const [router, nginx, agent] = [best('ccom-router'), best('nginx'), best('ccom-agent')];
  return [
    { label: 'req/s ccom proxy / nginx', value: ratio(router?.requestsPerSec, nginx?.requestsPerSec), target: '≥ 0.8' },
    { label: 'p99 ccom proxy / nginx', value: ratio(router?.p99Ms, nginx?.p99Ms) },
    { label: 'proxy CPU per request ccom proxy / nginx', value: ratio(router?.proxyCpuUsPerRequest ?? undefined, nginx?.proxyCpuUsPerRequest ?? undefined) },
    { label: 'req/s ccom agent (deploy path) / nginx', value: ratio(agent?.requestsPerSec, nginx?.requestsPerSec), target: '≥ 0.8' },
    { label: 'p99 ccom agent (deploy path) / nginx', value: ratio(agent?.p99Ms, nginx?.p99Ms) },
  ];
}

/** Runs the comparison; never asserts a speed, only reports. */
export async function run(): Promise<ProxyVsNginxResult> {
  const wrk = findWrk();
  if (!wrk) throw new Error('wrk not found on PATH: install it (apt-get install wrk) to run this benchmark');
  const notes: string[] = [];
  const loadBefore = loadavg()[0]!;
  const peers = await measureSameInstance(wrk, notes);
  peers.push(await measureDeployPath(wrk));
  const load = `wrk -t1 -c${CONNECTIONS} -d${MEASURE_S}s --latency, after a ${WARMUP_S} s warm-up`;
  notes.push(
    `load: ${load}; direct, nginx and ccom proxy measured ${ROUNDS}× interleaved, best run (highest req/s) reported with its own p50/p99`,
    `${cpus().length} CPU cores: wrk, the proxy and the app share them, so a proxy's own CPU use costs throughput`,
    `1-min load average ${loadBefore.toFixed(1)} before the run, ${loadavg()[0]!.toFixed(1)} after (other programs running on the machine disturb req/s; CPU per request much less)`,
    ...peers.filter((p) => p.best).map((p) => `${p.key}: ${p.runs.map((r) => num(r.requestsPerSec)).join(' / ')} req/s; errors ${p.runs.reduce((s, r) => s + r.non2xx + r.socketErrors, 0)}`),
  );
  return { name: 'proxy-vs-nginx', title: 'Proxy throughput: ccom vs nginx, same app instance', rows: rowsOf(peers), ratios: ratiosOf(peers), notes, peers, load };
}

/** The result as a markdown table, then the ratios and notes. */
export function printProxyVsNginx(result: ProxyVsNginxResult): void {
  const rows = result.peers.map((p) => {
    const b = p.best;
    if (!b) return [p.label, 'skipped', '', '', '', '', ''];
    const errors = p.runs.reduce((s, r) => s + r.non2xx + r.socketErrors, 0);
    const runs = p.runs.map((r) => num(r.requestsPerSec)).join(' / ');
    return [p.label, num(b.requestsPerSec), num(b.p50Ms, 2), num(b.p99Ms, 2), num(b.proxyCpuUsPerRequest, 1), runs, String(errors)];
  });
  console.log(`\n## ${result.title}\n`);
  console.log(markdownTable(['peer', 'req/s (best)', 'p50 ms', 'p99 ms', 'proxy CPU µs/req', 'req/s per run', 'errors'], rows));
  console.log('');
  for (const r of result.ratios) console.log(`- ${r.label}: ${r.value === null ? 'n/a' : `${r.value.toFixed(2)}×`}${r.target ? ` (target ${r.target})` : ''}`);
  for (const n of result.notes) console.log(`- ${n}`);
}

if (isMain(import.meta.url)) {
  run().then(printProxyVsNginx, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
