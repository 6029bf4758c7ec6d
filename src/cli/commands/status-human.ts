import { flagsStatusLines, type FlagsStatus } from './flags-status.js';
import { formatMs } from '../../report/human.js';
import type { LockHolder } from '../../store/types.js';
import type { WatchReport } from '../../targets/types.js';
import { describeSharedPort, type SharedPortSummary } from '../../tls/port-registry.js';

export interface StatusDoc {
  app: string;
  /** serving, deploying, watching (see `ccom ls`); a stopped app has its own document. */
  state: string;
  url: string | null;
  monitoring: string | null;
  live: string | null;
  releases: Array<{ id: string; weight: number; instances: Array<{ id: string; pid: number | null; groupPid?: number; port: number | null; state: string; restarts: number; problem?: string; cpuSeconds?: number; rssBytes?: number }> }>;
  agent: { pid: number; restarts: number } | null;
  /** The post-switch watch running now, or how the last one ended. */
  watch: WatchReport | null;
  deployment: RunningDeployment | null;
  /** With domains: the ports this app shares with other apps by host name, and who holds each. */
  sharedPorts?: SharedPortSummary[];
  /** With flags: those changed at run time, and a guarded rollout under way. */
  flags?: FlagsStatus;
}

export interface RunningDeployment {
  id: string;
  kind: string;
  strategy: string;
  release: string | null;
  startedAt: string;
  by: string;
  /** The step that runs now (strategies say so); before them, the last one that ended. */
  step: string | null;
  paused: string | null;
  /** What a step short of evidence waits for (counts update live). */
  waiting: string | null;
  lock: LockHolder | null;
}

/** `ccom status` for people: one line per release and instance, and the deployment under way. */
export function statusLines(doc: StatusDoc, agentLog: string, now = Date.now()): string[] {
  const lines = [`${doc.app}: ${doc.live ? `live release ${doc.live}` : 'no live release'} at ${doc.url ?? '(not serving)'}`];
  for (const r of doc.releases) {
    lines.push(`  ${r.id}  ${r.weight}% of traffic`);
    for (const i of r.instances) lines.push(`    ${i.id}  pid ${i.pid}${i.groupPid ? ` (started by ${i.groupPid})` : ''}  port ${i.port}  ${i.state}${usage(i)}${i.restarts ? `  (${i.restarts} restarts)` : ''}${i.problem ? `: ${i.problem}` : ''}`);
  }
  if (doc.monitoring) lines.push(`  metrics: ${doc.monitoring}`);
  for (const shared of doc.sharedPorts ?? []) lines.push(`  ${describeSharedPort(shared)}`);
  if (doc.agent) lines.push(`  agent: pid ${doc.agent.pid}${doc.agent.restarts ? `, started again ${doc.agent.restarts} time(s) by its guardian after it died (see ${agentLog})` : ''}`);
  if (doc.watch) lines.push(`  ${watchLine(doc.watch)}`);
  if (doc.flags) lines.push(...flagsStatusLines(doc.flags));
  if (doc.deployment) lines.push(...deploymentLines(doc.deployment, doc.releases, now));
  return lines;
}

function deploymentLines(d: RunningDeployment, releases: StatusDoc['releases'], now: number): string[] {
  const what = d.kind === 'rollback' ? `rollback to ${d.release ?? '?'}` : `deploy of release ${d.release ?? '?'}`;
  const since = `since ${d.startedAt.slice(11, 19)} UTC (${formatMs(Math.max(0, now - Date.parse(d.startedAt)))} ago)`;
  const weights = releases.filter((r) => r.weight > 0).map((r) => `${r.id === d.release ? 'new' : 'stable'} ${r.weight}%`);
  const lines = [
    `  ${what} in progress (${d.strategy}, by ${d.by}) ${since}`,
    `    ${d.step ? `step: ${d.step}` : 'no step yet'}; traffic: ${weights.length ? weights.join(' / ') : 'none'}`,
  ];
  // The strategy's own reason usually names the commands already; say them once.
  const how = d.paused?.includes('ccom promote') ? '' : ' — `ccom promote` continues, `ccom abort` rolls back';
  if (d.paused) lines.push(`    paused: ${d.paused}${how}`);
  if (d.waiting) lines.push(`    waiting for evidence: ${d.waiting}`);
  return lines;
}

function watchLine(w: WatchReport): string {
  if (w.status === 'running') return `watch: ${w.release} is judged on live traffic until ${w.until}; ${w.previous} stays warm to move back to`;
  return `last watch (${w.release} against ${w.previous}): ${w.status.replace('_', ' ')} at ${w.endedAt ?? w.until}${w.reason ? ` - ${w.reason}` : ''}`;
}

/** CPU and memory of the instance's whole process tree (npm and its app together). */
function usage(i: { cpuSeconds?: number; rssBytes?: number }): string {
  if (i.cpuSeconds === undefined || i.rssBytes === undefined) return '';
  return `  cpu ${i.cpuSeconds.toFixed(2)}s  mem ${Math.round(i.rssBytes / 1e6)}MB`;
}
