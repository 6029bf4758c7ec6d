import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appNameOf } from '../../src/app-state.js';
import { killPids, pidsUnder, sleep, timedRun, type RunOptions, type TimedRun } from './proc.js';

/** The built CLI; CCOM_BIN points the benchmarks at another build (e.g. a snapshot of dist/). */
export const CCOM_BIN = process.env.CCOM_BIN ?? fileURLToPath(new URL('../../bin/ccom.js', import.meta.url));

/** The benchmarks' apps keep their state in a CCOM_HOME of their own, removed at the end. */
const HOME = mkdtempSync(join(tmpdir(), 'ccom-bench-home-'));
process.once('exit', () => rmSync(HOME, { recursive: true, force: true }));
const PLAIN = { CI: 'true', NO_COLOR: '1', CCOM_HOME: HOME };

/** The app's state dir (`$CCOM_HOME/apps/<app>/`). */
export function stateOf(dir: string): string {
  return join(HOME, 'apps', appNameOf(dir) ?? 'unnamed');
}

export interface StepDoc {
  name: string;
  status: string;
  durationMs: number;
}

export interface DeploymentDoc {
  status: string;
  reason?: string;
  url: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  steps: StepDoc[];
}

export function ccom(args: string[], opts: RunOptions = {}): Promise<TimedRun> {
  return timedRun(process.execPath, [CCOM_BIN, ...args], PLAIN, opts);
}

/** `ccom deploy --json`, timed around the process; throws unless the deployment succeeded. */
export interface TimedDeploy {
  wallMs: number;
  /** Spawn until the pipeline's startedAt: Node startup, module load, config and flag parsing. */
  startupMs: number;
  /** The pipeline's finishedAt until the process exited: printing the result, closing handles. */
  exitMs: number;
  doc: DeploymentDoc;
}

export async function deployJson(dir: string): Promise<TimedDeploy> {
  const run = await ccom(['deploy', '-C', dir, '--json']);
  let doc: DeploymentDoc | undefined;
  try {
    doc = (JSON.parse(run.stdout) as { deployment: DeploymentDoc }).deployment;
  } catch {
    /* reported below */
  }
  if (!doc || doc.status !== 'succeeded') {
    throw new Error(`ccom deploy failed (exit ${run.code}): ${doc?.reason ?? 'no JSON document'}\n${run.stderr.slice(-2000)}`);
  }
  return {
    wallMs: run.wallMs,
    startupMs: Date.parse(doc.startedAt) - run.spawnedAt,
    exitMs: run.exitedAt - Date.parse(doc.finishedAt),
    doc,
  };
}

export function agentPid(dir: string): number {
  return Number(readFileSync(join(stateOf(dir), 'agent.pid'), 'utf8').trim());
}

/**
 * `ccom down`, then SIGKILL whatever still runs inside the app dir or its state dir (agent or
 * instances, by pid), then removes both: a failed benchmark must not leave processes behind.
 */
export async function teardownApp(dir: string): Promise<void> {
  const state = stateOf(dir);
  if (existsSync(state)) await ccom(['down', '-C', dir], { cleanup: true }).catch(() => undefined);
  const running = () => [...pidsUnder(dir), ...pidsUnder(state)];
  for (let i = 0; i < 20 && running().length > 0; i++) await sleep(100);
  const left = running();
  if (left.length > 0) {
    console.error(`bench: ${left.length} process(es) still ran in ${dir} after ccom down; killing pids ${left.join(', ')}`);
    killPids(left);
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
}
