import { cpus } from 'node:os';
import { median } from '../lib/stats.js';
import { cpuSeconds, machineBusySeconds, selfCpuSeconds } from './cpu.js';
import { runWrk, type WrkOptions, type WrkRun } from './wrk.js';

/** The processes serving one peer: the proxy (none when measuring the app directly) and the app. */
export interface PeerProcesses {
  proxy: number[];
  /** Count the proxy's direct children too (nginx's worker under its master). */
  proxyChildren?: boolean;
  app: number[];
}

/** A wrk run, what it cost the proxy, and how much CPU the rest of the machine took meanwhile. */
export interface PeerRun extends WrkRun {
  /** Proxy CPU time (user + system) per request; null without a proxy. */
  proxyCpuUsPerRequest: number | null;
  /**
   * Share of all cores busy with something other than wrk, the proxy and the app during the run
   * (other programs, the kernel's own threads, steal): a check on how far to trust the run.
   */
  otherCpuShare: number;
}

/** What a load run cost: the proxy's CPU seconds, and the share of all cores others took meanwhile. */
export interface CpuAccount {
  proxyCpuSeconds: number;
  otherCpuShare: number;
}

/**
 * Runs `load` (a child process this one waits for, like wrk) with CPU accounting of the peer's
 * processes around it: "other" is what the machine spent beyond the load, the proxy and the app.
 */
export async function withCpuAccount<T>(procs: PeerProcesses, load: () => Promise<T>): Promise<{ result: T; cpu: CpuAccount }> {
  const proxyCpu = () => cpuSeconds(procs.proxy, { children: procs.proxyChildren });
  const snapshot = () => ({ machine: machineBusySeconds(), self: selfCpuSeconds(), proxy: proxyCpu(), app: cpuSeconds(procs.app), at: performance.now() });
  const before = snapshot();
  const result = await load();
  const after = snapshot();
  const delta = (k: 'machine' | 'self' | 'proxy' | 'app') => after[k] - before[k];
  const wallS = (after.at - before.at) / 1000;
  const other = delta('machine') - delta('self') - delta('proxy') - delta('app');
  return { result, cpu: { proxyCpuSeconds: delta('proxy'), otherCpuShare: Math.max(0, other) / (cpus().length * wallS) } };
}

/** One wrk run against `url`, with CPU accounting of the peer's processes around it. */
export async function measureRun(wrk: string, url: string, seconds: number, connections: number, procs: PeerProcesses, options?: WrkOptions): Promise<PeerRun> {
  const { result: run, cpu } = await withCpuAccount(procs, () => runWrk(wrk, url, seconds, connections, options));
  return {
    ...run,
    proxyCpuUsPerRequest: procs.proxy.length === 0 || run.requests === 0 ? null : (cpu.proxyCpuSeconds * 1e6) / run.requests,
    otherCpuShare: cpu.otherCpuShare,
  };
}

/** The run with the highest req/s, reported whole (its own latencies), or null when none ran. */
export function bestOf(runs: PeerRun[]): PeerRun | null {
  return runs.reduce<PeerRun | null>((best, r) => (best === null || r.requestsPerSec > best.requestsPerSec ? r : best), null);
}

/** The median proxy CPU per request over runs, or null without a proxy. */
export function medianCpuUsPerRequest(runs: PeerRun[]): number | null {
  const values = runs.flatMap((r) => (r.proxyCpuUsPerRequest === null ? [] : [r.proxyCpuUsPerRequest]));
  return values.length === 0 ? null : median(values);
}

/**
 * Proxy CPU per request of `a` over `b`, where run i of each comes from the same interleaved
 * round (same wrk load, moments apart): the median of the per-round ratios, null when either is missing.
 */
export function pairedCpuRatio(a: PeerRun[] | undefined, b: PeerRun[] | undefined): number | null {
  if (a === undefined || b === undefined) return null;
  const perRound = a.flatMap((run, i) => {
    const other = b[i]?.proxyCpuUsPerRequest;
    return run.proxyCpuUsPerRequest === null || other === null || other === undefined || other === 0 ? [] : [run.proxyCpuUsPerRequest / other];
  });
  return perRound.length === 0 ? null : median(perRound);
}
