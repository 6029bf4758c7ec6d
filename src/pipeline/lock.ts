import { hostname } from 'node:os';
import type { Store } from '../store/index.js';
import { Blocked } from './failures.js';
import type { Emit } from './types.js';

export interface HeldLock {
  /** Throws Blocked (exit 2) when another live process holds the lock. */
  check(): void;
  release(): void;
}

/**
 * One command that changes what serves (deploy, rollback, down) at a time per app: two of
 * them interleaving leave the app in neither state (a rollback starting instances while `down`
 * stops the agent). A lock whose holder process is gone is taken over, and the user is told.
 */
export function acquireDeployLock(store: Store, who: { who: string; deploymentId: string; command: string }, emit: Emit): HeldLock {
  const result = store.acquireLock({ pid: process.pid, host: hostname(), ...who });
  if (result.ok && result.tookOverFrom) {
    const h = result.tookOverFrom;
    emit({ type: 'info', message: `took over a deploy lock left by ${h.who} (pid ${h.pid}, gone) since ${h.since}` });
    // The dead process never finished its history row: close it so status stops showing it.
    if (store.getDeployment(h.deploymentId)?.status === 'running') {
      store.updateDeployment(h.deploymentId, {
        status: 'failed',
        reason: `interrupted: its process (pid ${h.pid}) died before the deployment finished`,
        finishedAt: new Date().toISOString(),
      });
    }
  }
  return {
    check() {
      if (result.ok) return;
      const h = result.holder;
      throw new Blocked(`another command is changing what serves: \`${h.command}\` by ${h.who} (pid ${h.pid} on ${h.host}) since ${h.since}`, {
        fix: 'wait for it to finish (`ccom status` shows it), then run this command again; a lock left by a process that died is taken over automatically',
      });
    },
    release() {
      if (result.ok) store.releaseLock(process.pid);
    },
  };
}
