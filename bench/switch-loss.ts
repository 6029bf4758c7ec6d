/**
 * Failed requests per switch under load. ccom: 2 instances, then blue-green redeploys while a
 * keep-alive load loop hits the public port. Peer: PM2 cluster mode (2 workers) and `pm2 reload`,
 * the same load on the app's port. The same app code for both (graceful stop on SIGTERM/SIGINT).
 */
import { cpus } from 'node:os';
import { agentPid, deployJson, teardownApp } from './lib/ccom.js';
import { onCleanup } from './lib/cleanup.js';
import { isMain } from './lib/main.js';
import { findPm2, pm2SkipLine, pm2Version, withPm2Cluster } from './lib/pm2.js';
import { sleep } from './lib/proc.js';
import { ratio, type BenchResult, type BenchRow } from './lib/report.js';
import { round1, summarize } from './lib/stats.js';
import { startKeepAliveLoad, type LoadTally } from './peer/keepalive-load.js';
import { markdownTable, num } from './peer/markdown.js';
import { makeOriginApp } from './peer/origin-app.js';
import { waitForPort } from './peer/service.js';

const SWITCHES = 5;
const CONNECTIONS = 16;
/** Load before the first switch and after the last, so a late failure (old instances stopping) still counts. */
const LEAD_MS = 1_000;
const TAIL_MS = 2_000;

export interface SwitchMeasurement {
  peer: 'ccom' | 'pm2';
  label: string;
  switches: number;
  /** Wall time of each switch command (`ccom deploy`, `pm2 reload`). */
  switchMs: number[];
  requests: number;
  failed: number;
  failedPerSwitch: number;
  /** Failures in each switch's window (from its start to the next one's; the last until load stops). */
  failedBySwitch: number[];
  /** Failures before the first switch started (the steady state; should be 0). */
  failedBeforeFirst: number;
  reasons: Record<string, number>;
  requestsPerSec: number;
}

export interface SwitchLossResult extends BenchResult {
  peers: SwitchMeasurement[];
  load: string;
}

/** Runs `switchOnce` SWITCHES times while the load loop runs against `url`, and tallies per switch. */
async function underLoad(url: string, switchOnce: () => Promise<number>): Promise<Omit<SwitchMeasurement, 'peer' | 'label'>> {
  const load = startKeepAliveLoad(url, CONNECTIONS);
  const starts: number[] = [];
  const switchMs: number[] = [];
  let tally: LoadTally;
  try {
    await sleep(LEAD_MS);
    for (let i = 0; i < SWITCHES; i++) {
      starts.push(Date.now());
      switchMs.push(await switchOnce());
    }
    await sleep(TAIL_MS);
  } finally {
    tally = await load.stop();
  }
  const failedBySwitch = starts.map((start, i) => tally.failureTimes.filter((t) => t >= start && t < (starts[i + 1] ?? Infinity)).length);
  return {
    switches: SWITCHES,
    switchMs,
    requests: tally.ok + tally.failed,
    failed: tally.failed,
    // Failures before the first switch are steady-state trouble, not the switches' doing.
    failedPerSwitch: failedBySwitch.reduce((sum, n) => sum + n, 0) / SWITCHES,
    failedBySwitch,
    failedBeforeFirst: tally.failureTimes.filter((t) => t < starts[0]!).length,
    reasons: tally.reasons,
    requestsPerSec: ((tally.ok + tally.failed) * 1000) / tally.elapsedMs,
  };
}

async function measureCcom(): Promise<SwitchMeasurement> {
  const dir = makeOriginApp(2);
  const teardown = onCleanup(() => teardownApp(dir));
  try {
    const { doc } = await deployJson(dir);
    const agentBefore = agentPid(dir);
    const result = await underLoad(`${doc.url.replace(/\/$/, '')}/`, async () => (await deployJson(dir)).wallMs);
    const agentAfter = agentPid(dir);
    // The CLI replaces an agent started by another build (after dist/ was rebuilt), which cuts
    // every open connection: those failures would be the replacement's, not the switches'.
    if (agentAfter !== agentBefore) {
      throw new Error(
        `the ccom agent was replaced during the redeploys (pid ${agentBefore} → ${agentAfter}; ${result.failed} requests failed): ` +
          'dist/ was most likely rebuilt mid-run. Rerun with a stable build: CCOM_BIN pointing at a copy of bin/ and dist/',
      );
    }
    return { peer: 'ccom', label: 'ccom deploy (blue-green, 2 instances)', ...result };
  } finally {
    await teardown();
  }
}

async function measurePm2(bin: string): Promise<SwitchMeasurement> {
  return withPm2Cluster(bin, makeOriginApp(2), async (pm2, port) => {
    await waitForPort(port, 10_000);
    const result = await underLoad(`http://127.0.0.1:${port}/`, async () => (await pm2.mustRun(['reload', 'bench'])).wallMs);
    return { peer: 'pm2', label: `pm2 reload (cluster mode, -i 2)`, ...result };
  });
}

function msRow(label: string, values: number[]): BenchRow {
  const s = summarize(values);
  return { label, unit: 'ms', median: round1(s.median), p90: round1(s.p90), n: s.n };
}

/** Runs both peers one after the other (never together); reports, never asserts. */
export async function run(): Promise<SwitchLossResult> {
  const notes: string[] = [];
  const peers = [await measureCcom()];
  const pm2Bin = findPm2();
  if (pm2Bin) peers.push(await measurePm2(pm2Bin));
  else notes.push(pm2SkipLine('pm2 reload under load'));
  const [ccom, pm2] = [peers[0], peers[1]];
  const load = `${CONNECTIONS} keep-alive connections, closed loop (next GET as soon as one answers), no retries; 5 s request timeout`;
  notes.push(
    `load: ${load}; every non-2xx, error and timeout counts as failed`,
    `${cpus().length} CPU cores: the load loop, the proxy/daemon, the instances and the switch command share them`,
    ...(pm2Bin ? [`PM2 ${pm2Version(pm2Bin) ?? '?'} with a private PM2_HOME; the app stops gracefully on SIGINT (PM2's kill signal) as on SIGTERM (ccom's)`] : []),
    ...peers.map(
      (p) =>
        `${p.peer}: ${p.failed} of ${p.requests} requests failed, ${p.failedPerSwitch.toFixed(1)} per switch; by switch [${p.failedBySwitch.join(', ')}], ` +
        `before the first switch ${p.failedBeforeFirst}; kinds ${JSON.stringify(p.reasons)}`,
    ),
  );
  return {
    name: 'switch-loss',
    title: 'Failed requests per switch under load: ccom redeploy vs pm2 reload',
    rows: peers.map((p) => msRow(`${p.peer} switch (${p.peer === 'ccom' ? 'deploy' : 'reload'}) wall time`, p.switchMs)),
    ratios: [{ label: 'failed requests per switch, ccom / pm2', value: ratio(ccom?.failedPerSwitch, pm2?.failedPerSwitch) }],
    notes,
    peers,
    load,
  };
}

/** The result as a markdown table, then the ratio and notes. */
export function printSwitchLoss(result: SwitchLossResult): void {
  const rows = result.peers.map((p) => [
    p.label,
    String(p.switches),
    num(p.requests),
    num(p.requestsPerSec),
    String(p.failed),
    num(p.failedPerSwitch, 1),
    num(summarize(p.switchMs).median),
  ]);
  console.log(`\n## ${result.title}\n`);
  console.log(markdownTable(['peer', 'switches', 'requests', 'req/s', 'failed', 'failed per switch', 'switch ms (median)'], rows));
  console.log('');
  for (const r of result.ratios) console.log(`- ${r.label}: ${r.value === null ? 'n/a (a peer was skipped, or pm2 lost none)' : `${r.value.toFixed(2)}×`}`);
  for (const n of result.notes) console.log(`- ${n}`);
}

if (isMain(import.meta.url)) {
  run().then(printSwitchLoss, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
