/** Lifecycle of an immutable release. */
/** `replaced`: a healthy release that a manual rollback took out of service (not a failed one). */
export type ReleaseStatus = 'pending' | 'live' | 'previous' | 'failed' | 'rolled_back' | 'replaced' | 'retired';

/** One immutable release as recorded in history. Timestamps are ISO-8601. */
export interface ReleaseRow {
  id: string;
  createdAt: string;
  status: ReleaseStatus;
  strategy: string;
  /** `sha256:…` of the release's artifact manifest. */
  digest: string;
  deployedBy: string;
  /** Absolute path of the release directory. */
  dir: string;
  startCommand: string;
  /** The resolved config the release was deployed with (secrets excluded by the caller). */
  configJson: string;
  /** The code it holds when the app directory is a git repository (null otherwise; see pipeline/git-info.ts). */
  git?: GitInfo | null;
}

export interface GitInfo {
  commit: string;
  /** null on a detached HEAD. */
  branch: string | null;
  /** Uncommitted changes (tracked or untracked files) went into the release too. */
  dirty: boolean;
  subject: string;
}

export type DeploymentStatus = 'running' | 'succeeded' | 'rolled_back' | 'blocked' | 'failed';

/** One run of `ccom deploy` or `ccom rollback`. */
export interface DeploymentRow {
  id: string;
  app: string;
  release: string | null;
  previous: string | null;
  strategy: string;
  status: DeploymentStatus;
  reason: string | null;
  url: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  deployedBy: string;
  kind: 'deploy' | 'rollback';
}

export type StepStatus = 'passed' | 'failed' | 'warned' | 'skipped' | 'running';

/** One step of a deployment (`gate:test`, `build`, `health`, …), in insertion order. */
export interface StepRow {
  name: string;
  status: StepStatus;
  startedAt: string;
  durationMs: number;
  message: string | null;
}

/** A deployment with its steps in the order they were added. */
export interface DeploymentWithSteps extends DeploymentRow {
  steps: StepRow[];
}

/** One audit entry, newest first when listed. */
export interface AuditEntry {
  at: string;
  who: string;
  action: string;
  detail: Record<string, unknown>;
}

/** Who asks for the deploy lock. */
export interface LockRequest {
  pid: number;
  host: string;
  who: string;
  deploymentId: string;
  command: string;
}

/** Who holds the deploy lock, and since when (ISO-8601). */
export interface LockHolder extends LockRequest {
  since: string;
}

export type LockResult = { ok: true; tookOverFrom?: LockHolder } | { ok: false; holder: LockHolder };


