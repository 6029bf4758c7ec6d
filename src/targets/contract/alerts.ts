/** Where a target reports what it did on its own (a dead deploy's traffic put back, a watch's rollback). */
export interface AlertSettings {
  webhook?: string;
  format: 'json' | 'slack';
  timeoutMs: number;
  retries: number;
}

export type DeploymentStatus = 'succeeded' | 'rolled_back' | 'blocked' | 'failed';

/** The JSON event a webhook receives on blocked, rolled_back, failed and succeeded. */
export interface DeploymentAlertEvent {
  event: 'deployment';
  app: string;
  release: string | null;
  previous: string | null;
  deployment: string;
  kind: string;
  status: DeploymentStatus;
  reason: string | null;
  url: string | null;
  strategy: string;
  at: string;
}

/** The alert a target sends when it steps in for a deployment: the event, but for what the target fills in. */
export interface TargetAlert {
  alerts: AlertSettings;
  event: Omit<DeploymentAlertEvent, 'status' | 'reason' | 'at'>;
}
