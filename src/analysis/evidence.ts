import type { Config } from '../config/types.js';
import { judge, type Verdict } from './judge.js';
import type { ReleaseMetrics } from './metrics.js';

/** The new release's requests in a window, and the stable release's in the same window. */
export interface Sample {
  canary: ReleaseMetrics;
  stable: ReleaseMetrics | undefined;
}

/**
 * Judges live traffic and, when ccom probed the releases itself (live traffic was short of
 * minRequests), the probes, each on its own: a failure in either fails the release, a pass on
 * live traffic passes it, and a pass on probes passes it while live traffic is still short.
 * Probe figures are named as such in every message.
 */
export function judgeEvidence(
  live: Sample,
  probes: Sample | undefined,
  analysis: Config['analysis'],
  boundsMs: number[],
  final: boolean,
  warmingUp: boolean,
  reference?: ReleaseMetrics,
): Verdict {
  const liveVerdict = judge(live.canary, live.stable, analysis, boundsMs, final, { warmingUp, reference });
  if (liveVerdict.kind === 'fail' || liveVerdict.kind === 'pass' || !probes || probes.canary.requests === 0) return liveVerdict;
  const probed = judge(probes.canary, probes.stable, analysis, boundsMs, final, { warmingUp, source: 'probe ' });
  if (probed.kind === 'fail') return probed;
  if (probed.kind === 'pass') return { kind: 'pass', message: `on ccom's probes: ${probed.message} (live traffic: ${liveVerdict.message})` };
  return { kind: liveVerdict.kind, message: `${liveVerdict.message}; ${probed.message}` };
}
