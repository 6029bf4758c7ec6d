import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { appStateDir, releasesDir, STATE_DIR_MODE, tightenStateDir } from '../../app-state.js';

/** Unix socket paths are limited to ~107 bytes; deep app dirs fall back to the temp dir. */
const MAX_SOCKET_PATH = 100;

/** Where the local target keeps its per-app files, all under `<app>/.ccom/`. */
export interface LocalPaths {
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
    const digest = createHash('sha256').update(abs).digest('hex').slice(0, 16);
    socket = join(tmpdir(), `ccom-${process.getuid?.() ?? 0}-${digest}.sock`);
  }
  return {
    stateDir,
    socket,
    pidFile: join(stateDir, 'agent.pid'),
    agentState: join(stateDir, 'agent-state.json'),
    agentLog: join(stateDir, 'logs', 'agent.log'),
    logsDir: join(stateDir, 'logs'),
    releasesDir: releasesDir(abs),
  };
}

/**
 * Creates `.ccom/` readable by the user only: it holds the control socket and history. One that
 * exists with a looser mode is tightened (mkdir leaves an existing directory as it is).
 */
export function ensureStateDir(paths: LocalPaths): void {
  mkdirSync(paths.stateDir, { recursive: true, mode: STATE_DIR_MODE });
  tightenStateDir(dirname(paths.stateDir));
  mkdirSync(paths.logsDir, { recursive: true, mode: STATE_DIR_MODE });
}

export function instanceLogFile(paths: LocalPaths, release: string, instanceId: string): string {
  return join(paths.logsDir, release, `${instanceId}.log`);
}
