import { loadConfig } from '../../config/load.js';
import { processRunning } from '../../gates/process-group.js';
import { readControl } from '../../pipeline/control.js';
import { reachableUrl } from '../../pipeline/reachable-url.js';
import { Store } from '../../store/index.js';
import { createTarget } from '../../targets/index.js';
import { wasDeployed } from '../../app-state.js';
import type { TargetStatus } from '../../targets/types.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  const { config } = loadConfig(ctx.appDir);
  if (!wasDeployed(ctx.appDir)) {
    ctx.result({ app: config.app, url: null, live: null, releases: [], deployment: null }, 'not deployed yet: run `ccom deploy`');
    return 0;
  }
  const store = Store.open(ctx.appDir);
  const live = store.liveRelease();
  // A row left 'running' by a process that died is not a deployment in progress.
  const candidate = store.runningDeployment();
  const holder = store.lockHolder();
  const running = candidate && holder?.deploymentId === candidate.id && processRunning(holder.pid) ? candidate : undefined;
  const lock = holder;
  const paused = running ? (readControl(store, running.id).paused ?? null) : null;
  store.close();
  const target = createTarget(ctx.appDir);
  // Any command brings the agent back (after a crash or kill -9) so the live release serves again.
  await target.attach();
  const status = await target.status();
  const url = reachableUrl(status.url);
  const doc = {
    app: config.app,
    url,
    monitoring: status.monitoring?.url ?? null,
    live: live?.id ?? null,
    releases: releasesOf(status),
    agent: status.agent ?? null,
    deployment: running ? { id: running.id, kind: running.kind, release: running.release, startedAt: running.startedAt, by: running.deployedBy, step: running.steps.at(-1)?.name ?? null, paused, lock: lock ?? null } : null,
  };
  if (!ctx.json) printHuman(ctx, doc);
  ctx.result(doc, url ?? '');
  return 0;
}

function releasesOf(status: TargetStatus) {
  const ids = new Set([...Object.keys(status.weights), ...status.instances.map((i) => i.release)]);
  return [...ids].map((id) => ({
    id,
    weight: status.weights[id] ?? 0,
    instances: status.instances.filter((i) => i.release === id).map((i) => ({ id: i.id, pid: i.pid, ...(i.groupPid ? { groupPid: i.groupPid } : {}), port: i.port, healthy: i.healthy, state: i.state, restarts: i.restarts, cpuSeconds: i.cpuSeconds, rssBytes: i.rssBytes, ...(i.problem ? { problem: i.problem } : {}) })),
  }));
}

/** CPU and memory of the instance's whole process tree (npm and its app together). */
function usage(i: { cpuSeconds?: number; rssBytes?: number }): string {
  if (i.cpuSeconds === undefined || i.rssBytes === undefined) return '';
  return `  cpu ${i.cpuSeconds.toFixed(2)}s  mem ${Math.round(i.rssBytes / 1e6)}MB`;
}

function printHuman(ctx: CommandContext, doc: { app: string; url: string | null; monitoring: string | null; live: string | null; releases: ReturnType<typeof releasesOf>; agent: { pid: number; restarts: number } | null; deployment: unknown }): void {
  ctx.say(`${doc.app}: ${doc.live ? `live release ${doc.live}` : 'no live release'} at ${doc.url ?? '(not serving)'}`);
  for (const r of doc.releases) {
    ctx.say(`  ${r.id}  ${r.weight}% of traffic`);
    for (const i of r.instances) ctx.say(`    ${i.id}  pid ${i.pid}${i.groupPid ? ` (started by ${i.groupPid})` : ''}  port ${i.port}  ${i.state}${usage(i)}${i.restarts ? `  (${i.restarts} restarts)` : ''}${i.problem ? `: ${i.problem}` : ''}`);
  }
  if (doc.monitoring) ctx.say(`  metrics: ${doc.monitoring}`);
  if (doc.agent) ctx.say(`  agent: pid ${doc.agent.pid}${doc.agent.restarts ? `, started again ${doc.agent.restarts} time(s) by its guardian after it died (see .ccom/logs/agent.log)` : ''}`);
  if (doc.deployment) ctx.say(`  deployment in progress: ${JSON.stringify(doc.deployment)}`);
}
