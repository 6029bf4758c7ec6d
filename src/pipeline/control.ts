import type { Store } from '../store/index.js';

export type Decision = { command: 'promote' | 'abort'; by: string };

/**
 * How a paused deployment hears `ccom promote` / `ccom abort` from another terminal: both
 * sides read and write one row in the app's SQLite file, so it survives nothing but is seen
 * by any process on the machine.
 */
export interface DeployControl {
  pause(why: string): void;
  resume(): void;
  /** The step that runs now, for `ccom status`. */
  at(step: string): void;
  /** Waiting for evidence (`ccom promote` may end the wait), or undefined when no longer. */
  waitFor(why: string | undefined): void;
  /** A decision sent since the deployment started, if any (consumed by reading). */
  decision(): Decision | undefined;
}

interface ControlRow {
  paused?: string;
  waiting?: string;
  step?: string;
  decision?: Decision;
}

const key = (deploymentId: string) => `control:${deploymentId}`;

export function readControl(store: Store, deploymentId: string): ControlRow {
  const text = store.getSetting(key(deploymentId));
  return text ? (JSON.parse(text) as ControlRow) : {};
}

export function sendDecision(store: Store, deploymentId: string, decision: Decision): void {
  store.setSetting(key(deploymentId), JSON.stringify({ ...readControl(store, deploymentId), decision }));
}

export function storeControl(store: Store, deploymentId: string): DeployControl {
  const write = (row: ControlRow) => store.setSetting(key(deploymentId), JSON.stringify(row));
  return {
    pause: (why) => write({ ...readControl(store, deploymentId), paused: why }),
    resume: () => write({ ...readControl(store, deploymentId), paused: undefined }),
    at: (step) => write({ ...readControl(store, deploymentId), step }),
    waitFor: (why) => write({ ...readControl(store, deploymentId), waiting: why }),
    decision() {
      const row = readControl(store, deploymentId);
      if (!row.decision) return undefined;
      write({ ...row, decision: undefined });
      return row.decision;
    },
  };
}
