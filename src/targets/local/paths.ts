import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { appStateDir, STATE_DIR_MODE, tightenStateDir } from '../../app-state.js';
import { ensureAppStateDir } from '../../app-state-owner.js';

/** Unix socket paths are limited to ~107 bytes; a deep CCOM_HOME falls back to the temp dir. */
const MAX_SOCKET_PATH = 100;

/** Where the local target keeps its per-app files, all under the app's state dir (`$CCOM_HOME/apps/<app>/`). */
export interface LocalPaths {
  /** The app's directory (its config and sources), recorded as the state dir's owner. */
  appDir: string;
  stateDir: string;
  socket: string;
  pidFile: string;
  /** The agent's routing state (weights, instances, how to start them). */
  agentState: string;
  agentLog: string;
  logsDir: string;
  releasesDir: string;
}

export function localPaths(appDir: string): LocalPaths {
  const abs = resolve(appDir);
  const stateDir = appStateDir(abs);
  let socket = join(stateDir, 'agent.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    const digest = createHash('sha256').update(stateDir).digest('hex').slice(0, 16);
    socket = join(tmpdir(), `ccom-${process.getuid?.() ?? 0}-${digest}.sock`);
  }
  return {
    appDir: abs,
    stateDir,
    socket,
    pidFile: join(stateDir, 'agent.pid'),
    agentState: join(stateDir, 'agent-state.json'),
    agentLog: join(stateDir, 'logs', 'agent.log'),
    logsDir: join(stateDir, 'logs'),
    releasesDir: join(stateDir, 'releases'),
  };
}

/** Creates the state dir (recording whose it is) and its logs dir, readable by the user only. */
export function ensureStateDir(paths: LocalPaths): void {
  ensureAppStateDir(paths.appDir);
  // mkdir leaves an existing directory's mode as it is: a looser one is tightened.
  tightenStateDir(paths.appDir);
  mkdirSync(paths.logsDir, { recursive: true, mode: STATE_DIR_MODE });
}

export function instanceLogFile(paths: LocalPaths, release: string, instanceId: string): string {
  return join(paths.logsDir, release, `${instanceId}.log`);
}
