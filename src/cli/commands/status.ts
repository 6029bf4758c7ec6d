import { loadConfig } from '../../config/load.js';
import { processRunning } from '../../gates/process-group.js';
import { readControl } from '../../pipeline/control.js';
import { reachableUrl } from '../../pipeline/reachable-url.js';
import { sharedPortSummary } from '../../tls/port-registry.js';
import { Store } from '../../store/index.js';
import { createTarget } from '../../targets/index.js';
import { wasDeployed } from '../../app-state.js';
import { localPaths } from '../../targets/local/paths.js';
import type { TargetStatus } from '../../targets/types.js';
import type { CommandContext } from '../run.js';
import { statusLines, type StatusDoc } from './status-human.js';
import { flagsStatus } from './flags-status.js';

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
  const control = running ? readControl(store, running.id) : {};
  store.close();
  const target = createTarget(ctx.appDir, config);
  // Read-only: an agent that runs is reached (one being restarted by its guardian is waited
  // for), but none is started. After `down` or a reboot `ccom up` brings the app back.
  const status = await target.peek();
  if (!status) return reportNotRunning(ctx, config.app, live?.id ?? null, running);
  const url = reachableUrl(status.url);
  const doc = {
    app: config.app,
    state: running ? 'deploying' : status.watch?.status === 'running' ? 'watching' : 'serving',
    url,
    monitoring: status.monitoring?.url ?? null,
    live: live?.id ?? null,
    releases: releasesOf(status),
    agent: agentOf(status),
    watch: status.watch ?? null,
    ...(config.flags ? { flags: flagsStatus(ctx.appDir) } : {}),
    ...(config.domains ? { sharedPorts: [config.proxy.port, config.proxy.httpPort ?? 80].map(sharedPortSummary).filter((s) => s !== undefined) } : {}),
    deployment: running
      ? {
          id: running.id,
          kind: running.kind,
          strategy: running.strategy,
          release: running.release,
          startedAt: running.startedAt,
          by: running.deployedBy,
          // The step that runs now (strategies say so); before them, the last one that ended.
          step: control.step ?? running.steps.at(-1)?.name ?? null,
          paused: control.paused ?? null,
          waiting: control.waiting ?? null,
          lock: lock ?? null,
        }
      : null,
  } satisfies StatusDoc;
  if (!ctx.json) for (const line of statusLines(doc, localPaths(ctx.appDir).agentLog)) ctx.say(line);
  ctx.result(doc, url ?? '');
  return 0;
}

/**
 * Nothing runs: stopped by `ccom down` (no live release left), or not running although a
 * release is live (the machine restarted, or the agent's guardian gave up).
 */
function reportNotRunning(ctx: CommandContext, app: string, live: string | null, running: { id: string; kind: string; release: string | null; startedAt: string } | undefined): number {
  const store = Store.open(ctx.appDir);
  const resumable = live ?? store.rollbackCandidates()[0]?.id ?? null;
  store.close();
  const state = running ? 'deploying' : live ? 'not running' : 'stopped';
  const deployment = running ? { id: running.id, kind: running.kind, release: running.release, startedAt: running.startedAt } : null;
  const doc = { app, state, url: null, monitoring: null, live, resumable, releases: [], agent: null, watch: null, deployment };
  if (running && !ctx.json) ctx.say(`${app}: ${running.kind} of release ${running.release ?? '?'} starting (since ${running.startedAt}); nothing serves yet`);
  else if (!ctx.json) {
    ctx.say(live ? `${app}: not running — release ${live} is live but nothing serves it (the machine restarted, or its agent gave up; see ${localPaths(ctx.appDir).agentLog})` : `${app}: stopped (\`ccom down\`): nothing runs`);
    if (resumable) ctx.say(`  \`ccom up\` starts release ${resumable} again`);
  }
  ctx.result(doc, '');
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

/** The SPEC's `agent` of `ccom status`: the process serving the app, when the target names one. */
function agentOf(status: TargetStatus): StatusDoc['agent'] {
  const supervisor = status.supervisor;
  return supervisor?.pid === undefined ? null : { pid: supervisor.pid, restarts: supervisor.restarts };
}
