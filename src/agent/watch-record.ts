import { processRunning } from '../gates/process-group.js';
import type { Store } from '../store/index.js';
import type { WatchHandoff } from '../targets/local/wire.js';

/** How often the agent looks whether the deploying CLI finished writing its row. */
const POLL_MS = 100;

/**
 * History and alert of a release the post-switch watch moved back: the deployment becomes
 * rolled_back with the reason, the release rolled_back, the previous release live again.
 * Loaded only now, like the abandoned-deploy record: an agent whose watches pass never opens
 * SQLite. While the deploying CLI still holds the row (it is finishing, or `--wait` waits for
 * this watch) the agent waits, so neither overwrites the other: a CLI that recorded the
 * rollback itself (`--wait`) has also alerted, and the agent then does nothing.
 */
export async function recordWatchRollback(appDir: string, handoff: WatchHandoff, reason: string): Promise<void> {
  const { Store } = await import('../store/index.js');
  const store = Store.open(appDir);
  let recorded: boolean;
  try {
    await deployFinished(store, handoff.deploymentId);
    recorded = store.getDeployment(handoff.deploymentId)?.status === 'rolled_back';
    if (!recorded) {
      store.markLive(handoff.previous);
      store.setReleaseStatus(handoff.release, 'rolled_back');
      store.updateDeployment(handoff.deploymentId, { status: 'rolled_back', reason, finishedAt: new Date().toISOString() });
      store.audit('ccom-agent', 'deploy.rolled_back', { deployment: handoff.deploymentId, release: handoff.release, previous: handoff.previous, reason, by: 'watch' });
    }
  } finally {
    store.close();
  }
  if (recorded || handoff.alert === undefined) return;
  const { sendAlert } = await import('../alerts/webhook.js');
  await sendAlert(handoff.alert.alerts, { ...handoff.alert.event, status: 'rolled_back', reason, at: new Date().toISOString() });
}

/**
 * Resolves once the row is final, or is still 'running' without a live holder twice in a row:
 * the CLI releases its lock just before it writes its outcome, and a dead CLI never writes one.
 */
async function deployFinished(store: Store, deploymentId: string): Promise<void> {
  let orphaned = false;
  while (store.getDeployment(deploymentId)?.status === 'running') {
    const holder = store.lockHolder();
    const held = holder?.deploymentId === deploymentId && processRunning(holder.pid);
    if (!held && orphaned) return;
    orphaned = !held;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
