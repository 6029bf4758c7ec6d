/**
 * Feature flags from the app's side: one boolean flag (a 10% fractional rollout behind a
 * targeting rule) evaluated through the stock @openfeature/server-sdk + @openfeature/ofrep-provider
 * against a deployed ccom agent's OFREP server, against flagd's own evaluator
 * (@openfeature/flagd-core) running in-process in the same app, same run, rounds interleaved.
 * Also ccom's evaluator in-process (what the agent runs per request), and CPU per evaluation on
 * each side, which is what carries over a shared machine's noise.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { FlagdCore } from '@openfeature/flagd-core';
import { parseFlagFile } from '../src/flags/definitions.js';
import { evaluateFlag } from '../src/flags/evaluate.js';
import { agentPid, deployJson, stateOf, teardownApp } from './lib/ccom.js';
import { onCleanup } from './lib/cleanup.js';
import { makeFixtureApp } from './lib/fixture.js';
import { isMain, runAsScript } from './lib/main.js';
import { ratio, type BenchResult } from './lib/report.js';
import { round1, summarize } from './lib/stats.js';

const FLAGS = {
  flags: {
    'new-checkout': {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ ends_with: [{ var: 'email' }, '@example.com'] }, 'on', { fractional: [['on', 10], ['off', 90]] }] },
    },
  },
};
const ROUNDS = 3;
const OFREP_EVALS = 1500;
const LOCAL_EVALS = 30_000;

const contextOf = (i: number) => ({ targetingKey: String((i * 7919) % 10_000), email: `u${i}@shop.test` });

/** CPU seconds a process used so far (utime + stime from /proc, clock ticks of 10 ms). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Run {
  latenciesMs: number[];
  wallMs: number;
  clientCpuUs: number;
  serverCpuUs?: number;
}

async function timed(n: number, evaluate: (i: number) => unknown, serverPid?: number): Promise<Run> {
  const latenciesMs: number[] = [];
  const cpu0 = process.cpuUsage();
  const server0 = serverPid === undefined ? 0 : cpuSecondsOf(serverPid);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await evaluate(i);
    latenciesMs.push(performance.now() - t);
  }
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return {
    latenciesMs,
    wallMs,
    clientCpuUs: (cpu.user + cpu.system) / n,
    ...(serverPid === undefined ? {} : { serverCpuUs: ((cpuSecondsOf(serverPid) - server0) * 1e6) / n }),
  };
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] ?? NaN;
}

export async function flagsOfrep(): Promise<BenchResult> {
  const dir = makeFixtureApp('ccom-bench-flags-');
  const stop = onCleanup(() => teardownApp(dir));
  try {
    writeFileSync(join(dir, 'flags.json'), JSON.stringify(FLAGS));
    writeFileSync(join(dir, 'ccom.yaml'), `${readFileSync(join(dir, 'ccom.yaml'), 'utf8')}flags:\n  file: flags.json\n`);
    await deployJson(dir);
    const port = (JSON.parse(readFileSync(join(stateOf(dir), 'flags-state.json'), 'utf8')) as { ofrepPort: number }).ofrepPort;
    const agent = agentPid(dir);
    await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: `http://127.0.0.1:${port}` }));
    const client = OpenFeature.getClient();
    const flagd = new FlagdCore();
    flagd.setConfigurations(JSON.stringify(FLAGS));
    const ours = parseFlagFile(JSON.stringify(FLAGS), 'flags.json');
    const contenders = {
      ofrep: (i: number) => client.getBooleanValue('new-checkout', false, contextOf(i)),
      flagd: (i: number) => flagd.resolveBooleanEvaluation('new-checkout', false, contextOf(i)),
      ccom: (i: number) => evaluateFlag(ours, 'new-checkout', contextOf(i)),
    };
    // Same answers, or the comparison means nothing.
    for (let i = 0; i < 200; i++) {
      const a = await contenders.ofrep(i);
      if (a !== flagd.resolveBooleanEvaluation('new-checkout', false, contextOf(i)).value) throw new Error(`OFREP and flagd-core disagree for ${JSON.stringify(contextOf(i))}`);
    }
    await timed(300, contenders.ofrep, agent);
    await timed(3000, contenders.flagd);
    await timed(3000, contenders.ccom);
    const runs: Record<keyof typeof contenders, Run[]> = { ofrep: [], flagd: [], ccom: [] };
    for (let r = 0; r < ROUNDS; r++) {
      runs.ofrep.push(await timed(OFREP_EVALS, contenders.ofrep, agent));
      runs.flagd.push(await timed(LOCAL_EVALS, contenders.flagd));
      runs.ccom.push(await timed(LOCAL_EVALS, contenders.ccom));
    }
    const perSecond = (rs: Run[]) => summarize(rs.map((r) => (r.latenciesMs.length / r.wallMs) * 1000)).median;
    const p99Of = (rs: Run[]) => summarize(rs.map((r) => p99(r.latenciesMs))).median;
    const cpuOf = (rs: Run[], side: 'clientCpuUs' | 'serverCpuUs') => summarize(rs.map((r) => r[side] ?? NaN)).median;
    const rows: BenchResult['rows'] = (['ofrep', 'flagd', 'ccom'] as const).map((k) => ({
      label: `${k === 'ofrep' ? 'OFREP to the ccom agent (server-sdk + ofrep-provider)' : k === 'flagd' ? 'flagd-core in-process' : "ccom's evaluator in-process"}: p99 per evaluation`,
      unit: 'ms',
      median: p99Of(runs[k]),
      n: ROUNDS,
    }));
    const notes = [
      `evaluations/s, sequential from one app process (median of ${ROUNDS} interleaved rounds): OFREP ${Math.round(perSecond(runs.ofrep))}, flagd-core in-process ${Math.round(perSecond(runs.flagd))}, ccom's evaluator in-process ${Math.round(perSecond(runs.ccom))}`,
      `CPU per evaluation: OFREP ${round1(cpuOf(runs.ofrep, 'clientCpuUs'))} µs in the app + ${round1(cpuOf(runs.ofrep, 'serverCpuUs'))} µs in the agent; flagd-core ${round1(cpuOf(runs.flagd, 'clientCpuUs'))} µs; ccom's evaluator ${round1(cpuOf(runs.ccom, 'clientCpuUs'))} µs`,
      `p99 per evaluation: OFREP ${round1(p99Of(runs.ofrep) * 1000)} µs, flagd-core ${round1(p99Of(runs.flagd) * 1000)} µs, ccom's evaluator ${round1(p99Of(runs.ccom) * 1000)} µs`,
      'the agent CPU figure is from /proc in 10 ms ticks over the round, so it is coarse; the app CPU figure is process.cpuUsage()',
    ];
    return {
      name: 'flags-ofrep',
      title: 'Feature flags: OFREP to the ccom agent vs flagd-core in-process (one boolean flag, fractional + targeting)',
      rows,
      ratios: [
        { label: 'OFREP evaluations/s / flagd-core in-process', value: ratio(perSecond(runs.ofrep), perSecond(runs.flagd)) },
        { label: "ccom's evaluator / flagd-core, evaluations/s in-process", value: ratio(perSecond(runs.ccom), perSecond(runs.flagd)) },
      ],
      notes,
    };
  } finally {
    await OpenFeature.close().catch(() => undefined);
    await stop();
  }
}

if (isMain(import.meta.url)) runAsScript(flagsOfrep);
