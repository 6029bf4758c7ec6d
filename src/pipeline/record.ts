import { alertEvent, sendAlert } from '../alerts/webhook.js';
import type { Config } from '../config/types.js';
import type { Store } from '../store/index.js';
import type { DeploymentDoc, Emit } from './types.js';

/**
 * The end of every deployment and rollback: history row, audit entry, then the alert webhook.
 * The alert goes last, after traffic is where it belongs, so it never delays a rollback.
 */
export async function recordOutcome(store: Store, who: string, doc: DeploymentDoc, alerts: Config['alerts'], emit: Emit): Promise<void> {
  // `previous` too: a deploy takes the release serving after the last watch as its stable one (deploy.ts).
  store.updateDeployment(doc.id, { status: doc.status, reason: doc.reason ?? null, previous: doc.previous, url: doc.url, finishedAt: doc.finishedAt, durationMs: doc.durationMs });
  store.audit(who, `${doc.kind}.${doc.status}`, { deployment: doc.id, release: doc.release, previous: doc.previous, strategy: doc.strategy, reason: doc.reason });
  const delivery = await sendAlert(alerts, alertEvent(doc));
  if (!delivery) return;
  store.audit('ccom', 'alert', { deployment: doc.id, ...delivery });
  if (!delivery.delivered) {
    emit({ type: 'info', message: `alert webhook not reached after ${delivery.attempts} attempt(s): ${delivery.error} (the deployment itself is unaffected)` });
  }
}
