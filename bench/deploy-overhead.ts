/**
 * ccom's own time per blue-green redeploy: wall time minus what belongs to the user (gates,
 * build) and to the app (boot until healthy, the `start` step). Measured around the process
 * (what a user waits for) and in-process (durationMs), whose gap is Node startup and module load.
 * Peer: `pm2 reload` of the same app with 2 cluster instances, also a zero-downtime restart.
 */
import { deployJson, teardownApp, type DeploymentDoc, type TimedDeploy } from './lib/ccom.js';
import { onCleanup } from './lib/cleanup.js';
import { makeFixtureApp } from './lib/fixture.js';
import { mustRun } from './lib/proc.js';
import { isMain, runAsScript } from './lib/main.js';
import { findPm2, pm2SkipLine, withPm2Cluster } from './lib/pm2.js';
import { ratio, type BenchResult, type BenchRow } from './lib/report.js';
import { round1, summarize } from './lib/stats.js';

const REDEPLOYS = 10;
const TARGET_MS = 300;

/** Time that is the user's or the app's, not ccom's. */
function excludedMs(doc: DeploymentDoc): number {
  return doc.steps.filter((s) => s.name.startsWith('gate:') || s.name === 'build' || s.name === 'start').reduce((sum, s) => sum + s.durationMs, 0);
}

function msRow(label: string, values: number[]): BenchRow {
  const s = summarize(values);
  return { label, unit: 'ms', median: round1(s.median), p90: round1(s.p90), n: s.n };
}

/**
 * The redeploys, each followed by `node -e 0`: Node's own start on this machine at that moment,
 * the floor under any CLI's wall time (on a slow VM alone it can exceed the 300 ms target).
 */
async function measureCcom(): Promise<{ runs: TimedDeploy[]; nodeStartMs: number[] }> {
  const dir = makeFixtureApp();
  const teardown = onCleanup(() => teardownApp(dir));
  try {
    await deployJson(dir); // warm-up: starts the agent and the first release
    const runs: TimedDeploy[] = [];
    const nodeStartMs: number[] = [];
    for (let i = 0; i < REDEPLOYS; i++) {
      runs.push(await deployJson(dir));
      nodeStartMs.push((await mustRun(process.execPath, ['-e', '0'])).wallMs);
    }
    return { runs, nodeStartMs };
  } finally {
    await teardown();
  }
}

async function measurePm2Reload(bin: string): Promise<number[]> {
  return withPm2Cluster(bin, makeFixtureApp('ccom-bench-pm2-app-'), async (pm2) => {
    const wall: number[] = [];
    await pm2.mustRun(['reload', 'bench']); // warm-up, like ccom's
    for (let i = 0; i < REDEPLOYS; i++) wall.push((await pm2.mustRun(['reload', 'bench'])).wallMs);
    return wall;
  });
}

export async function deployOverhead(): Promise<BenchResult> {
  const notes: string[] = [];
  const { runs, nodeStartMs } = await measureCcom();
  const wall = runs.map((r) => r.wallMs);
  const docs = runs.map((r) => r.doc);
  const overheadWall = docs.map((d, i) => wall[i]! - excludedMs(d));
  const overheadInProcess = docs.map((d) => d.durationMs - excludedMs(d));
  const stepNames = [...new Set(docs.flatMap((d) => d.steps.map((s) => s.name)))];
  const stepRows = stepNames.map((name) => msRow(`  step ${name}`, docs.map((d) => d.steps.find((s) => s.name === name)?.durationMs ?? 0)));

  const pm2Bin = findPm2();
  let pm2Wall: number[] | undefined;
  if (pm2Bin) pm2Wall = await measurePm2Reload(pm2Bin);
  else {
    notes.push(pm2SkipLine('pm2 reload'));
    console.log(pm2SkipLine('pm2 reload'));
  }

  const beyondNode = overheadWall.map((o, i) => o - nodeStartMs[i]!);
  const overhead = summarize(overheadWall);
  const deployWall = summarize(wall);
  const reloadWall = pm2Wall ? summarize(pm2Wall) : undefined;
  notes.push('overhead = wall time − (gate:* + build + start); `start` is the app booting until healthy, not ccom');
  notes.push(`app: 2 instances, no gates, no build, proxy.port 0, health interval 100ms; ${REDEPLOYS} redeploys after 1 warm-up`);
  return {
    name: 'deploy-overhead',
    title: `Deploy overhead per blue-green redeploy (${REDEPLOYS} runs)`,
    rows: [
      msRow('ccom deploy, wall (around the process)', wall),
      msRow('ccom deploy, durationMs (in-process)', docs.map((d) => d.durationMs)),
      msRow('overhead, wall (target ≤ 300 ms)', overheadWall),
      msRow('overhead, in-process', overheadInProcess),
      msRow('outside the pipeline (wall − durationMs)', docs.map((d, i) => wall[i]! - d.durationMs)),
      msRow('  spawn → pipeline start (Node + CLI load)', runs.map((r) => r.startupMs)),
      msRow('  pipeline end → process exit', runs.map((r) => r.exitMs)),
      msRow('node -e 0 (after each redeploy: the floor of any wall time)', nodeStartMs),
      msRow('overhead, wall − node -e 0 (ccom beyond Node\'s own start)', beyondNode),
      ...stepRows,
      ...(pm2Wall ? [msRow('pm2 reload (2 cluster instances), wall', pm2Wall)] : []),
    ],
    ratios: [
      { label: 'overhead median / 300 ms target', value: ratio(overhead.median, TARGET_MS), target: '≤ 1×' },
      { label: 'overhead p90 / 300 ms target', value: ratio(overhead.p90, TARGET_MS), target: '≤ 1×' },
      { label: '(overhead − node -e 0) median / 300 ms target', value: ratio(summarize(beyondNode).median, TARGET_MS), target: '≤ 1×' },
      { label: 'ccom deploy wall / pm2 reload wall (median)', value: ratio(deployWall.median, reloadWall?.median) },
    ],
    notes,
  };
}

if (isMain(import.meta.url)) runAsScript(deployOverhead);
