/**
 * Throughput and latency of ccom's proxy against nginx, both proxying to the same app instance,
 * and the app alone. ccom's Router runs in its own node process (the agent's proxy without its
 * supervisor), so every peer reaches the very same instance; the full deploy path (the agent a
 * `ccom deploy` starts, in front of its own instance) is measured once at the end.
 */
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { agentPid, deployJson, stateOf, teardownApp } from './lib/ccom.js';
import { onCleanup } from './lib/cleanup.js';
import { isMain } from './lib/main.js';
import { pidsUnder } from './lib/proc.js';
import { ratio, type BenchRatio, type BenchResult, type BenchRow } from './lib/report.js';
import { markdownTable, num } from './peer/markdown.js';
import { bestOf, measureRun, medianCpuUsPerRequest, pairedCpuRatio, type PeerProcesses, type PeerRun } from './peer/measure-http.js';
import { findNginx, startNginx } from './peer/nginx.js';
import { makeOriginApp, startOriginApp } from './peer/origin-app.js';
import { startRouterProcess } from './peer/router.js';
import type { Service } from './peer/service.js';
import { findWrk, runWrk } from './peer/wrk.js';

const WARMUP_S = 3;
const MEASURE_S = 10;
const CONNECTIONS = 50;
/** Interleaved rounds per peer: CPU per request is reported as the median over them. */
const ROUNDS = 3;
/** The second comparison streams 64 KB answers: bodies, not heads, dominate. */
const LARGE_BODY_BYTES = 64 * 1024;

/**
 * One peer's runs; `best` is the run with the highest req/s. `cpuUsPerRequest` is the median
 * over the runs of the proxy's CPU per request: less sensitive to other load on the machine
 * than req/s, so that is the figure the CPU ratios use.
 */
export interface PeerMeasurement {
  key: 'direct' | 'nginx' | 'ccom-router' | 'ccom-agent' | 'direct-64k' | 'nginx-64k' | 'ccom-router-64k';
  label: string;
  runs: PeerRun[];
  best: PeerRun | null;
  cpuUsPerRequest: number | null;
  skipped?: string;
}

export interface ProxyVsNginxResult extends BenchResult {
  peers: PeerMeasurement[];
  load: string;
}

interface Peer {
  measurement: PeerMeasurement;
  url: string;
  procs: PeerProcesses;
  /** What serves this peer, described when a run fails (did something die under load?). */
  services: Service[];
}

const peer = (key: PeerMeasurement['key'], label: string): PeerMeasurement => ({ key, label, runs: [], best: null, cpuUsPerRequest: null });

function settle(m: PeerMeasurement): void {
  m.best = bestOf(m.runs);
  m.cpuUsPerRequest = medianCpuUsPerRequest(m.runs);
}

/** Warm-up (first round only), then `rounds` measurements per peer, interleaved: A B C, A B C. */
async function measureInterleaved(wrk: string, peers: Peer[], rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const p of peers) {
      try {
        if (round === 0) await runWrk(wrk, p.url, WARMUP_S, CONNECTIONS);
        p.measurement.runs.push(await measureRun(wrk, p.url, MEASURE_S, CONNECTIONS, p.procs));
      } catch (err) {
        const states = p.services.map((s) => s.describe()).join('\n');
        throw new Error(`${p.measurement.label} at ${p.url}: ${err instanceof Error ? err.message : String(err)}\n${states}`);
      }
    }
  }
  for (const p of peers) settle(p.measurement);
}

/** Direct, nginx and ccom's Router, all in front of one instance of the bench app. */
async function measureSameInstance(wrk: string, notes: string[], bodyBytes?: number): Promise<PeerMeasurement[]> {
  const large = bodyBytes !== undefined;
  const key = <K extends 'direct' | 'nginx' | 'ccom-router'>(k: K) => (large ? (`${k}-64k` as const) : k);
  const suffix = large ? `, ${bodyBytes / 1024} KB answers` : '';
  const dir = makeOriginApp(1);
  const stops: Array<() => Promise<void>> = [];
  const cleanup = onCleanup(async () => {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const app = await startOriginApp(dir, bodyBytes);
    stops.push(app.stop);
    const peers: Peer[] = [{ url: `http://127.0.0.1:${app.port}/`, procs: { proxy: [], app: [app.pid] }, services: [app], measurement: peer(key('direct'), `app directly (no proxy)${suffix}`) }];
    const nginx = peer(key('nginx'), `nginx (1 worker, keepalive 64)${suffix}`);
    const nginxBin = findNginx();
    if (nginxBin) {
      const server = await startNginx(nginxBin, app.port);
      stops.push(server.stop);
      peers.push({ url: `http://127.0.0.1:${server.port}/`, procs: { proxy: [server.pid], proxyChildren: true, app: [app.pid] }, services: [server, app], measurement: nginx });
    } else {
      nginx.skipped = 'nginx not found (apt-get install nginx, or set NGINX_BIN)';
      if (!large) notes.push(`skip: ${nginx.skipped}`);
    }
    const router = await startRouterProcess(app.port);
    stops.push(router.stop);
    const ccom = peer(key('ccom-router'), `ccom proxy (Router, own process)${suffix}`);
    peers.push({ url: `http://127.0.0.1:${router.port}/`, procs: { proxy: [router.pid], app: [app.pid] }, services: [router, app], measurement: ccom });

    await measureInterleaved(wrk, peers, ROUNDS);
    return [peers[0]!.measurement, nginx, ccom];
  } finally {
    await cleanup();
  }
}

/** The agent `ccom deploy` starts (instances: 1), in front of its own instance: ROUNDS runs in a row. */
async function measureDeployPath(wrk: string): Promise<PeerMeasurement> {
  const dir = makeOriginApp(1);
  const teardown = onCleanup(() => teardownApp(dir));
  try {
    const { doc } = await deployJson(dir);
    const url = `${doc.url.replace(/\/$/, '')}/`;
    const agent = agentPid(dir);
    await runWrk(wrk, url, WARMUP_S, CONNECTIONS);
    const procs = { proxy: [agent], app: pidsUnder(stateOf(dir)).filter((pid) => pid !== agent) }; // instances run from their releases
    const runs: PeerRun[] = [];
    for (let round = 0; round < ROUNDS; round++) runs.push(await measureRun(wrk, url, MEASURE_S, CONNECTIONS, procs));
    const agentPeer = { ...peer('ccom-agent', `ccom agent (full deploy path)`), runs };
    settle(agentPeer);
    return agentPeer;
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
  const of = (key: PeerMeasurement['key']) => peers.find((p) => p.key === key && p.best !== null);
  const best = (key: PeerMeasurement['key']) => of(key)?.best ?? undefined;
  const cpu = (key: PeerMeasurement['key']) => of(key)?.cpuUsPerRequest ?? undefined;
  const [router, nginx, agent] = [best('ccom-router'), best('nginx'), best('ccom-agent')];
  const [router64, nginx64] = [best('ccom-router-64k'), best('nginx-64k')];
  return [
    { label: 'req/s ccom proxy / nginx', value: ratio(router?.requestsPerSec, nginx?.requestsPerSec), target: '≥ 0.8' },
    { label: 'p99 ccom proxy / nginx', value: ratio(router?.p99Ms, nginx?.p99Ms) },
    { label: 'proxy CPU per request ccom proxy / nginx (median of per-round ratios)', value: pairedCpuRatio(of('ccom-router')?.runs, of('nginx')?.runs), target: '≤ 1.5' },
    { label: 'req/s ccom agent (deploy path) / nginx', value: ratio(agent?.requestsPerSec, nginx?.requestsPerSec), target: '≥ 0.8' },
    { label: 'p99 ccom agent (deploy path) / nginx', value: ratio(agent?.p99Ms, nginx?.p99Ms) },
    { label: 'proxy CPU per request ccom agent / nginx (medians; measured after the others)', value: ratio(cpu('ccom-agent'), cpu('nginx')) },
    { label: 'req/s ccom proxy / nginx, 64 KB answers', value: ratio(router64?.requestsPerSec, nginx64?.requestsPerSec) },
    { label: 'p99 ccom proxy / nginx, 64 KB answers', value: ratio(router64?.p99Ms, nginx64?.p99Ms) },
    { label: 'proxy CPU per request ccom proxy / nginx, 64 KB answers (median of per-round ratios)', value: pairedCpuRatio(of('ccom-router-64k')?.runs, of('nginx-64k')?.runs) },
  ];
}

const pct = (share: number) => `${Math.round(share * 100)}%`;

/** Runs the comparison; never asserts a speed, only reports. */
export async function run(): Promise<ProxyVsNginxResult> {
  const wrk = findWrk();
  if (!wrk) throw new Error('wrk not found on PATH: install it (apt-get install wrk) to run this benchmark');
  const notes: string[] = [];
  const peers = await measureSameInstance(wrk, notes);
  peers.push(await measureDeployPath(wrk));
  peers.push(...(await measureSameInstance(wrk, notes, LARGE_BODY_BYTES)));
  const load = `wrk -t1 -c${CONNECTIONS} -d${MEASURE_S}s --latency, after a ${WARMUP_S} s warm-up`;
  const measured = peers.filter((p) => p.best !== null);
  notes.push(
    `load: ${load}; direct, nginx and ccom proxy measured ${ROUNDS}× interleaved, best run (highest req/s) reported with its own p50/p99; proxy CPU µs/req is the median over the runs`,
    `${cpus().length} CPU cores: wrk, the proxy and the app share them, so a proxy's own CPU use costs throughput`,
    ...measured.map((p) => `${p.key}: req/s per run ${p.runs.map((r) => num(r.requestsPerSec)).join(' / ')}; proxy CPU µs/req per run ${p.runs.map((r) => num(r.proxyCpuUsPerRequest, 1)).join(' / ')}; other CPU load per run ${p.runs.map((r) => pct(r.otherCpuShare)).join(' / ')}; errors ${p.runs.reduce((s, r) => s + r.non2xx + r.socketErrors, 0)}`),
  );
  return { name: 'proxy-vs-nginx', title: 'Proxy throughput: ccom vs nginx, same app instance', rows: rowsOf(peers), ratios: ratiosOf(peers), notes, peers, load };
}

/** The result as a markdown table, then the ratios and notes. */
export function printProxyVsNginx(result: ProxyVsNginxResult): void {
  const rows = result.peers.map((p) => {
    const b = p.best;
    if (!b) return [p.label, 'skipped', '', '', '', ''];
    return [p.label, num(b.requestsPerSec), num(b.p50Ms, 2), num(b.p99Ms, 2), num(p.cpuUsPerRequest, 1), pct(b.otherCpuShare)];
  });
  console.log(`\n## ${result.title}\n`);
  console.log(markdownTable(['peer', 'req/s (best of runs)', 'p50 ms', 'p99 ms', 'proxy CPU µs/req (median)', 'other CPU load (best run)'], rows));
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
