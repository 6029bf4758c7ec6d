/**
 * The agent's resident memory: idle after a deploy, and after 2,000 requests through its proxy.
 * Peer: PM2's daemon running the same app with 2 cluster instances (its cluster master also
 * sits between clients and instances), read the same way from /proc/<pid>/status.
 */
import { agentPid, deployJson, teardownApp } from './lib/ccom.js';
import { onCleanup } from './lib/cleanup.js';
import { makeFixtureApp } from './lib/fixture.js';
import { sendRequests } from './lib/load.js';
import { isMain, runAsScript } from './lib/main.js';
import { findPm2, pm2SkipLine, withPm2Cluster } from './lib/pm2.js';
import { rssMb, sleep } from './lib/proc.js';
import { ratio, type BenchResult } from './lib/report.js';
import { round1 } from './lib/stats.js';

const IDLE_MS = 5000;
const REQUESTS = 2000;
const TARGET_MB = 60;

interface Reading {
  idleMb: number;
  loadedMb: number;
  failed: number;
}

/** Idle RSS, then RSS after the requests, of `pid` serving `url`. */
async function readMemory(pid: number, url: string): Promise<Reading> {
  await sleep(IDLE_MS);
  const idleMb = rssMb(pid);
  const { failed } = await sendRequests(url, REQUESTS);
  return { idleMb, loadedMb: rssMb(pid), failed };
}

async function measureCcom(): Promise<Reading> {
  const dir = makeFixtureApp();
  const teardown = onCleanup(() => teardownApp(dir));
  try {
    const { doc } = await deployJson(dir);
    return await readMemory(agentPid(dir), doc.url);
  } finally {
    await teardown();
  }
}

async function measurePm2(bin: string): Promise<Reading> {
  return withPm2Cluster(bin, makeFixtureApp('ccom-bench-pm2-app-'), async (pm2, port) => {
    const pid = pm2.daemonPid();
    if (pid === undefined) throw new Error(`pm2 started but wrote no pid file in ${pm2.home}`);
    return readMemory(pid, `http://127.0.0.1:${port}/`);
  });
}

export async function agentMemory(): Promise<BenchResult> {
  const notes: string[] = [];
  const ccom = await measureCcom();
  const pm2Bin = findPm2();
  const pm2 = pm2Bin ? await measurePm2(pm2Bin) : undefined;
  if (!pm2) {
    notes.push(pm2SkipLine('PM2 daemon memory'));
    console.log(pm2SkipLine('PM2 daemon memory'));
  }
  for (const [who, r] of [['ccom', ccom], ['pm2', pm2]] as const) {
    if (r && r.failed > 0) notes.push(`${who}: ${r.failed} of ${REQUESTS} requests did not answer 200`);
  }
  notes.push(`VmRSS from /proc/<pid>/status after ${IDLE_MS / 1000} s idle, then after ${REQUESTS} GET / over 8 keep-alive connections; app: 2 instances`);
  return {
    name: 'agent-memory',
    title: 'Agent memory (resident set size)',
    rows: [
      { label: 'ccom agent, idle (target ≤ 60 MB)', unit: 'MB', value: round1(ccom.idleMb) },
      { label: `ccom agent, after ${REQUESTS} requests via its proxy`, unit: 'MB', value: round1(ccom.loadedMb) },
      ...(pm2
        ? [
            { label: 'PM2 daemon, idle (2 cluster instances)', unit: 'MB' as const, value: round1(pm2.idleMb) },
            { label: `PM2 daemon, after ${REQUESTS} requests via its cluster`, unit: 'MB' as const, value: round1(pm2.loadedMb) },
          ]
        : []),
    ],
    ratios: [
      { label: 'ccom agent idle / 60 MB target', value: ratio(ccom.idleMb, TARGET_MB), target: '≤ 1×' },
      { label: 'ccom agent / PM2 daemon, idle', value: ratio(ccom.idleMb, pm2?.idleMb) },
      { label: `ccom agent / PM2 daemon, after ${REQUESTS} requests`, value: ratio(ccom.loadedMb, pm2?.loadedMb) },
    ],
    notes,
  };
}

if (isMain(import.meta.url)) runAsScript(agentMemory);
