/**
 * Cold start: `ccom --version` against `node -e 0` (the floor: Node itself) and `pm2 --version`
 * (the peer users know). Runs are interleaved round by round so machine noise hits all alike.
 */
import { CCOM_BIN } from './lib/ccom.js';
import { onCleanup } from './lib/cleanup.js';
import { isMain, runAsScript } from './lib/main.js';
import { findPm2, pm2SkipLine, PrivatePm2 } from './lib/pm2.js';
import { mustRun } from './lib/proc.js';
import { ratio, type BenchResult } from './lib/report.js';
import { round1, summarize } from './lib/stats.js';

const WARMUPS = 3;
const RUNS = 20;

interface Contender {
  label: string;
  run: () => Promise<number>;
}

export async function coldStart(): Promise<BenchResult> {
  const notes: string[] = [];
  const contenders: Contender[] = [
    { label: 'ccom --version', run: async () => (await mustRun(process.execPath, [CCOM_BIN, '--version'])).wallMs },
    { label: 'node -e 0', run: async () => (await mustRun(process.execPath, ['-e', '0'])).wallMs },
  ];
  const pm2Bin = findPm2();
  const pm2 = pm2Bin ? new PrivatePm2(pm2Bin) : undefined;
  const stopPm2 = onCleanup(async () => pm2?.stop());
  if (pm2) {
    contenders.push({ label: 'pm2 --version', run: async () => (await pm2.mustRun(['--version'])).wallMs });
    notes.push('pm2 --version connects to (and on first use starts) its daemon; the warm-ups start it, so the timed runs find it running');
  } else {
    notes.push(pm2SkipLine('pm2 --version'));
    console.log(pm2SkipLine('pm2 --version'));
  }
  const samples = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
  try {
    for (const c of contenders) for (let i = 0; i < WARMUPS; i++) await c.run();
    for (let i = 0; i < RUNS; i++) for (const c of contenders) samples.get(c.label)!.push(await c.run());
  } finally {
    await stopPm2();
  }
  const stats = new Map([...samples].map(([label, values]) => [label, summarize(values)]));
  const ccom = stats.get('ccom --version')!;
  const node = stats.get('node -e 0')!;
  const pm2Stats = stats.get('pm2 --version');
  return {
    name: 'cold-start',
    title: `Cold start (${RUNS} runs each after ${WARMUPS} warm-ups, wall time around the process)`,
    rows: [...stats].map(([label, s]) => ({ label, unit: 'ms' as const, median: round1(s.median), p90: round1(s.p90), n: s.n })),
    ratios: [
      { label: 'ccom / node (median)', value: ratio(ccom.median, node.median), target: '≤ 2×' },
      { label: 'ccom / pm2 (median)', value: ratio(ccom.median, pm2Stats?.median) },
    ],
    notes,
  };
}

if (isMain(import.meta.url)) runAsScript(coldStart);
