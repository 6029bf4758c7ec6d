import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { LEGACY_MOVED_TO_FILE, LEGACY_STATE_DIR_NAME, appStateDir } from '../../app-state.js';
import { ensureAppStateDir } from '../../app-state-owner.js';
import { UserError } from '../../errors.js';
import { processRunning } from '../../gates/process-group.js';
import { socketRequest } from './agent-client.js';
import { linkOrCopyTree } from './copy-tree.js';
import { processesUsing } from './processes-using.js';

/**
 * Builds before this one kept an app's state in `<app>/.ccom/`. The first command of this build
 * moves it to the state dir without a refused request: history, releases, logs and backups are
 * copied (hard links on one file system), the old agent hands the public socket over to this
 * build's agent, which adopts the instances where they run, and `.ccom/` is removed once no
 * process runs from it (instances of its releases are replaced by the next deploy or rollback).
 */

/** Written into the new state dir: where its state came from, so only that `.ccom/` is ever removed. */
const MOVED_FROM_FILE = 'moved-from';

export function legacyStateDir(appDir: string): string {
  return join(resolve(appDir), LEGACY_STATE_DIR_NAME);
}

/** The old agent's control socket, as the old builds placed it (temp dir for deep app dirs). */
function legacySocket(appDir: string): string {
  const socket = join(legacyStateDir(appDir), 'agent.sock');
  if (Buffer.byteLength(socket) <= 100) return socket;
  const digest = createHash('sha256').update(resolve(appDir)).digest('hex').slice(0, 16);
  return join(tmpdir(), `ccom-${process.getuid?.() ?? 0}-${digest}.sock`);
}

async function pings(socket: string): Promise<boolean> {
  const res = await socketRequest(socket, 'GET', '/v1/ping', undefined, 2000).catch(() => undefined);
  return res?.status === 200;
}

/** Moves `<app>/.ccom/` (if any) to the app's state dir; removes it when nothing runs from it. */
export async function moveLegacyState(appDir: string, say: (line: string) => void): Promise<void> {
  const legacy = legacyStateDir(appDir);
  if (!existsSync(join(legacy, 'state.db'))) return;
  const stateDir = appStateDir(appDir);
  if (existsSync(stateDir)) {
    if (readMovedFrom(stateDir) !== legacy) return; // state already lives here: an unrelated `.ccom/` is left alone
    // Moved, but the hand-over failed last time: the old agent still serves; try again.
    if (await handOverOldAgent(appDir, stateDir)) say(`✔ the agent of the older build (state was in ${legacy}) handed the public port over to this one`);
    removeLegacyIfUnused(appDir, say);
    return;
  }
  refuseWhileOldDeployRuns(legacy);
  // Staged beside its final name and renamed: the state dir appears complete or not at all.
  const staging = `${stateDir}.moving-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(staging, { recursive: true, mode: 0o700 });
    copyHistory(legacy, staging, stateDir);
    copyAgentState(legacy, staging, stateDir);
    writeFileSync(join(staging, MOVED_FROM_FILE), `${legacy}\n`, { mode: 0o600 });
    renameSync(staging, stateDir);
    ensureAppStateDir(appDir); // records whose state it is
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  const handedOver = await handOverOldAgent(appDir, stateDir);
  say(`✔ moved this app's state from ${legacy} to ${stateDir}${handedOver ? '; its agent handed the public port over without a gap' : ''}`);
  removeLegacyIfUnused(appDir, say);
}

function readMovedFrom(stateDir: string): string | undefined {
  try {
    return readFileSync(join(stateDir, MOVED_FROM_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Copying the history under a deploy of an older build would lose what it writes next. */
function refuseWhileOldDeployRuns(legacy: string): void {
  const db = new Database(join(legacy, 'state.db'), { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const holder = db.prepare('SELECT pid, host FROM deploy_lock').get() as { pid: number; host: string } | undefined;
    if (holder && holder.host === hostname() && processRunning(holder.pid)) {
      throw new UserError(`an older ccom (pid ${holder.pid}) is deploying this app with its state in ${legacy}`, {
        fix: 'wait for that deploy to finish, then run the command again: this build then moves the state',
      });
    }
  } finally {
    db.close();
  }
}

/** History (a consistent snapshot, with its paths pointed at the new place), releases, logs, backups. */
function copyHistory(legacy: string, staging: string, stateDir: string): void {
  for (const sub of ['releases', 'logs', 'backups']) {
    if (existsSync(join(legacy, sub))) linkOrCopyTree(join(legacy, sub), join(staging, sub));
  }
  const file = join(staging, 'state.db');
  const old = new Database(join(legacy, 'state.db'), { fileMustExist: true });
  try {
    old.pragma('busy_timeout = 5000');
    old.prepare('VACUUM INTO ?').run(file);
  } finally {
    old.close();
  }
  const db = new Database(file);
  try {
    for (const table of ['releases', 'backups']) {
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      if (exists) {
        db.prepare(`UPDATE ${table} SET dir = ? || substr(dir, ?) WHERE substr(dir, 1, ?) = ?`).run(stateDir, legacy.length + 1, legacy.length + 1, `${legacy}/`);
      }
    }
  } finally {
    db.close();
  }
}

/** The agent's routing state, with each release's directory at the new place (restarts start there). */
function copyAgentState(legacy: string, into: string, stateDir: string): void {
  let text: string;
  try {
    text = readFileSync(join(legacy, 'agent-state.json'), 'utf8');
  } catch {
    return; // no agent ever ran
  }
  const state = JSON.parse(text) as { specs?: Record<string, { dir?: string }> };
  for (const spec of Object.values(state.specs ?? {})) {
    if (spec.dir?.startsWith(`${legacy}/`)) spec.dir = stateDir + spec.dir.slice(legacy.length);
  }
  const file = join(into, 'agent-state.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/**
 * A running old agent starts this build's agent and passes it the listening public socket (the
 * hand-over of every upgrade); the new agent reads the state dir from the app's config. Returns
 * whether an agent was handed over.
 */
async function handOverOldAgent(appDir: string, stateDir: string): Promise<boolean> {
  const socket = legacySocket(appDir);
  if (!(await pings(socket))) return false;
  // Fresh copy: the old agent may have changed weights or instances while history was copied.
  copyAgentState(legacyStateDir(appDir), stateDir, stateDir);
  writeFileSync(join(legacyStateDir(appDir), LEGACY_MOVED_TO_FILE), `${stateDir}\n`, { mode: 0o600 });
  const agentScript = fileURLToPath(new URL('./agent.js', import.meta.url));
  const answer = await socketRequest(socket, 'POST', '/v1/handover', { agentScript }, 30_000).catch((err: Error) => ({ status: 0, body: err.message }));
  if (answer.status !== 200) {
    throw new UserError(`the agent of the older ccom build (state in ${legacyStateDir(appDir)}) did not hand over: ${answer.body}`, {
      fix: `run the command again; if it fails again, \`ccom down\` with the older build, then deploy with this one`,
    });
  }
  const newSocket = join(stateDir, 'agent.sock');
  for (let i = 0; i < 200 && !(await pings(newSocket)); i++) await new Promise((r) => setTimeout(r, 25));
  return true;
}

/** Removes the old `.ccom/` once no process runs from it or writes a file that only it holds. */
export function removeLegacyIfUnused(appDir: string, say: (line: string) => void): void {
  const legacy = legacyStateDir(appDir);
  if (!existsSync(legacy)) return;
  const stateDir = appStateDir(appDir);
  if (readMovedFrom(stateDir) !== legacy) return;
  if (processesUsing(legacy).length > 0) return;
  rmSync(legacy, { recursive: true, force: true });
  say(`✔ removed ${legacy}: nothing runs from it any more (the app's state is in ${stateDir})`);
}
