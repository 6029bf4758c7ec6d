/**
 * Runs every benchmark one after another (never in parallel: they would measure each other),
 * prints each table as it finishes and writes all results to bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { cpus, release, type } from 'node:os';
import { fileURLToPath } from 'node:url';
import { agentMemory } from './agent-memory.js';
import { twoAppMemory } from './two-app-memory.js';
import { canaryDetection } from './canary-detection.js';
import { printProxyVsNginx, run as proxyVsNginx, type ProxyVsNginxResult } from './proxy-vs-nginx.js';
import { printTlsVsNginx } from './peer/tls-report.js';
import { run as tlsVsNginx } from './tls-vs-nginx.js';
import { printSwitchLoss, run as switchLoss, type SwitchLossResult } from './switch-loss.js';
import { coldStart } from './cold-start.js';
import { deployOverhead } from './deploy-overhead.js';
import { flagsOfrep } from './flags-ofrep.js';
import { sshShip } from './ssh-ship.js';
import { CCOM_BIN } from './lib/ccom.js';
import { findPm2, pm2Version } from './lib/pm2.js';
import { printResult, type BenchResult } from './lib/report.js';

type Bench = [name: string, run: () => Promise<BenchResult>, print?: (result: BenchResult) => void];

const BENCHMARKS: Bench[] = [
  ['cold-start', coldStart],
  ['deploy-overhead', deployOverhead],
  ['agent-memory', agentMemory],
  ['two-app-memory', twoAppMemory],
  ['proxy-vs-nginx', proxyVsNginx, (r) => printProxyVsNginx(r as ProxyVsNginxResult)],
  ['tls-vs-nginx', tlsVsNginx, printTlsVsNginx],
  ['switch-loss', switchLoss, (r) => printSwitchLoss(r as SwitchLossResult)],
  ['canary-detection', canaryDetection],
  ['flags-ofrep', flagsOfrep],
  ['ssh-ship', sshShip],
];

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

/** How this run was started, so a results file says which build it measured. */
function commandLine(): string {
  const base = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : 'node --import tsx bench/run.ts';
  return process.env.CCOM_BIN ? `CCOM_BIN=${process.env.CCOM_BIN} ${base}` : base;
}

async function main(): Promise<void> {
  const results: BenchResult[] = [];
  const failures: Array<{ name: string; error: string }> = [];
  const only = process.argv.slice(2);
  for (const [name, bench, print = printResult] of BENCHMARKS) {
    if (only.length > 0 && !only.includes(name)) continue;
    const started = performance.now();
    try {
      const result = await bench();
      print(result);
      console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
      results.push(result);
    } catch (err) {
      console.error(`\n${name} could not run: ${err instanceof Error ? err.message : String(err)}`);
      failures.push({ name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const pm2 = findPm2();
  const doc = {
    command: commandLine(),
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, os: `${type()} ${release()}`, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' },
    ccomBin: CCOM_BIN,
    pm2: pm2 ? { bin: pm2, version: pm2Version(pm2) ?? 'unknown' } : null,
    results,
    failures,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS_FILE}`);
  if (failures.length > 0) process.exitCode = 1;
}

void main();
