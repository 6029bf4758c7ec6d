import type { StrategyName } from '../config/types.js';
import type { DeploymentStatus } from '../targets/contract/alerts.js';
import type { WatchStatusName } from '../targets/types.js';

export type StepStatus = 'running' | 'passed' | 'failed' | 'warned' | 'skipped';
export type { DeploymentStatus };

export interface StepRecord {
  name: string;
  status: StepStatus;
  startedAt: string;
  durationMs: number;
  message?: string;
  /** Output shown under a failed step (a gate's output, an instance's last log lines). */
  detail?: string;
}

/** The `deployment` object of the `--json` document (SPEC.md). */
export interface DeploymentDoc {
  id: string;
  app: string;
  kind: 'deploy' | 'rollback' | 'dry-run';
  release: string | null;
  previous: string | null;
  strategy: StrategyName;
  status: DeploymentStatus;
  reason?: string;
  fix?: string;
  url: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  steps: StepRecord[];
  /** With flags.file: the flags the release adds, removes and defines differently from the live one's. */
  flags?: { added: string[]; removed: string[]; changed: string[] };
  /** The post-switch watch the agent runs (or, with `--wait`, ran) for this deployment. */
  watch?: { until: string; status: WatchStatusName; reason?: string };
}

/** What the pipeline tells the reporter as it goes. */
export type DeployEvent =
  | { type: 'start'; app: string; strategy: StrategyName; kind: DeploymentDoc['kind'] }
  | { type: 'step'; step: StepRecord }
  | { type: 'info'; message: string }
  | { type: 'paused'; why: string }
  | { type: 'waiting'; why: string }
  /** A running step's live state (countdown, live counts): redrawn on a terminal, printed every few seconds in CI. */
  | { type: 'progress'; text: string }
  /** Output of a running gate, build or migration check, as it comes (already redacted). */
  | { type: 'output'; text: string }
  | { type: 'rollback'; reason: string }
  | { type: 'done'; deployment: DeploymentDoc; detail?: string };

export type Emit = (event: DeployEvent) => void;
