import type { Config } from '../config/types.js';
import { messageOf } from '../errors.js';
import type { DeploymentDoc } from '../pipeline/types.js';
import type { DeploymentAlertEvent } from '../targets/contract/alerts.js';

/** The JSON event a webhook receives on blocked, rolled_back, failed and succeeded (targets send it too). */
export type AlertEvent = DeploymentAlertEvent;

export function alertEvent(doc: DeploymentDoc): AlertEvent {
  return {
    event: 'deployment',
    app: doc.app,
    release: doc.release,
    previous: doc.previous,
    deployment: doc.id,
    kind: doc.kind,
    status: doc.status,
    reason: doc.reason ?? null,
    url: doc.url,
    strategy: doc.strategy,
    at: doc.finishedAt,
  };
}

const ICON: Record<AlertEvent['status'], string> = { succeeded: '🎉', rolled_back: '⚡', blocked: '❌', failed: '🚨' };

/** Slack's incoming-webhook body: one line of text. */
function slackBody(e: AlertEvent): unknown {
  const what = e.status === 'succeeded' ? `is live at ${e.url}` : `${e.status.replace('_', ' ')}: ${e.reason ?? ''}`;
  return { text: `${ICON[e.status]} ccom ${e.kind} of *${e.app}* (release ${e.release ?? '-'}) ${what}` };
}

export interface Delivery {
  delivered: boolean;
  attempts: number;
  error?: string;
}

/**
 * POSTs the event with a per-attempt timeout and a few retries. It runs after the deployment
 * (and any rollback) has finished, so a slow or dead webhook can delay the command's exit by at
 * most (retries + 1) × timeout, and never a rollback.
 */
export async function sendAlert(alerts: Config['alerts'], event: AlertEvent): Promise<Delivery | undefined> {
  return post(alerts, alerts.format === 'slack' ? slackBody(event) : event);
}

/** What happened to the app between deploys: its agent died and its guardian started it again. */
export interface AgentAlertEvent {
  event: 'agent';
  app: string;
  status: 'restarted' | 'certificate_expiring';
  reason: string;
  url: string | null;
  at: string;
}

export async function sendAgentAlert(alerts: Config['alerts'], event: AgentAlertEvent): Promise<Delivery | undefined> {
  return post(alerts, alerts.format === 'slack' ? { text: `🔧 ccom agent of *${event.app}* ${event.status}: ${event.reason}` } : event);
}

/** A guarded flag rollout's kill switch: the flag was turned off on a regression. */
export interface FlagAlertEvent {
  event: 'flag';
  app: string;
  flag: string;
  status: 'killed';
  reason: string;
  at: string;
}

export async function sendFlagAlert(alerts: Config['alerts'], event: FlagAlertEvent): Promise<Delivery | undefined> {
  return post(alerts, alerts.format === 'slack' ? { text: `⚡ ccom turned flag *${event.flag}* of *${event.app}* off: ${event.reason}` } : event);
}

async function post(alerts: Config['alerts'], payload: unknown): Promise<Delivery | undefined> {
  if (!alerts.webhook) return undefined;
  const body = JSON.stringify(payload);
  let error = '';
  for (let attempt = 1; attempt <= alerts.retries + 1; attempt++) {
    try {
      const res = await fetch(alerts.webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'ccom-alerts' },
        body,
        signal: AbortSignal.timeout(alerts.timeoutMs),
      });
      await res.arrayBuffer();
      if (res.ok) return { delivered: true, attempts: attempt };
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = messageOf(err);
    }
    if (attempt <= alerts.retries) await new Promise((r) => setTimeout(r, 200 * attempt));
  }
  return { delivered: false, attempts: alerts.retries + 1, error };
}
