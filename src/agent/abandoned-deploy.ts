import type { AgentLease } from '../targets/local/wire.js';

export interface AbandonedOutcome {
  status: 'rolled_back' | 'failed';
  reason: string;
}

/**
 * Closes the history row of a deployment whose process died, and sends the alert it never
 * sent. SQLite and the alert code load only now: an agent that never meets a dead deploy keeps
 * them out of memory.
 */
export async function recordAbandoned(appDir: string, guard: AgentLease, outcome: AbandonedOutcome): Promise<void> {
  const at = new Date().toISOString();
  const { Store } = await import('../store/index.js');
  const store = Store.open(appDir);
  try {
    if (store.getDeployment(guard.deploymentId)?.status === 'running') {
      store.updateDeployment(guard.deploymentId, { status: outcome.status, reason: outcome.reason, finishedAt: at });
      store.setReleaseStatus(guard.release, outcome.status === 'rolled_back' ? 'rolled_back' : 'failed');
    }
  } finally {
    store.close();
  }
  if (guard.alert === undefined) return;
  const { sendAlert } = await import('../alerts/webhook.js');
  await sendAlert(guard.alert.alerts, { ...guard.alert.event, status: outcome.status, reason: outcome.reason, at });
}
