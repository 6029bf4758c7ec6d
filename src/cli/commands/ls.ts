import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { processRunning } from '../../gates/process-group.js';
import { reachableUrl } from '../../pipeline/reachable-url.js';
import { Store } from '../../store/index.js';
import { knownApps, peekAgent, type KnownApp } from '../../targets/local/app-overview.js';
import type { TargetStatus } from '../../targets/types.js';
import type { CommandContext } from '../run.js';
import { table } from '../table.js';

/** serving | deploying | watching (after a switch) | stopped (`ccom down`) | not running (live, but no agent: a reboot) | not deployed */
type AppState = 'serving' | 'deploying' | 'watching' | 'stopped' | 'not running' | 'not deployed';

interface AppRow {
  name: string;
  dir: string | null;
  url: string | null;
  live: string | null;
  instances: { healthy: number; total: number };
  memoryBytes: number | null;
  state: AppState;
}

/** `ccom ls`: every app of this user on this machine. Reads state dirs and asks running agents; starts nothing. */
export async function run(ctx: CommandContext): Promise<number> {
  const apps = await Promise.all(knownApps().map(rowOf));
  if (!ctx.json) {
    if (apps.length === 0) ctx.say('no apps yet: `ccom deploy` in an app directory');
    else {
      const rows = apps.map((a) => [a.name, a.state, a.url ?? '-', a.live ?? '-', a.instances.total ? `${a.instances.healthy}/${a.instances.total}` : '-', a.memoryBytes === null ? '-' : `${Math.round(a.memoryBytes / 1e6)}MB`, a.dir ?? '(unknown)']);
      for (const line of table(['APP', 'STATE', 'URL', 'LIVE', 'UP', 'MEM', 'DIR'], rows)) ctx.say(line);
    }
  }
  ctx.result({ apps });
  return 0;
}

async function rowOf(app: KnownApp): Promise<AppRow> {
  const history = readHistory(app);
  const status = await peekAgent(app);
  const instances = status?.instances ?? [];
  const memory = instances.filter((i) => i.rssBytes !== undefined).map((i) => i.rssBytes as number);
  return {
    name: app.name,
    dir: app.appDir ?? null,
    url: status ? reachableUrl(status.url) : null,
    live: history.live,
    instances: { healthy: instances.filter((i) => i.healthy).length, total: instances.length },
    memoryBytes: memory.length ? memory.reduce((a, b) => a + b, 0) : null,
    state: stateOf(history, status),
  };
}

function stateOf(history: History, status: TargetStatus | null): AppState {
  if (history.deploying) return 'deploying';
  if (!history.deployed) return 'not deployed';
  if (status?.watch?.status === 'running') return 'watching';
  if (status && Object.values(status.weights).some((w) => w > 0) && status.instances.length > 0) return 'serving';
  return history.live ? 'not running' : 'stopped';
}

interface History {
  deployed: boolean;
  live: string | null;
  deploying: boolean;
}

function readHistory(app: KnownApp): History {
  const hasHistory = existsSync(join(app.stateDir, 'state.db'));
  // Deployed from a directory that is gone: its history cannot be opened by it, but it may still serve.
  if (!app.appDir || !existsSync(app.appDir) || !hasHistory) return { deployed: hasHistory, live: null, deploying: false };
  const store = Store.open(app.appDir);
  try {
    const running = store.runningDeployment();
    const holder = store.lockHolder();
    return {
      deployed: store.listReleases().length > 0,
      live: store.liveRelease()?.id ?? null,
      // A row left 'running' by a process that died is no deployment.
      deploying: Boolean(running && holder?.deploymentId === running.id && processRunning(holder.pid)),
    };
  } finally {
    store.close();
  }
}
