import type { StrategyName } from '../config/types.js';
import { ExitCode } from '../errors.js';
import type { DeploymentWithSteps } from '../store/index.js';
import type { DeploymentDoc, DeploymentStatus, StepStatus } from './types.js';

const EXIT: Record<DeploymentStatus, number> = {
  succeeded: ExitCode.Succeeded,
  rolled_back: ExitCode.RolledBack,
  blocked: ExitCode.Blocked,
  failed: ExitCode.RollbackFailed,
};

/** A finished deployment from history, as the `--json` document and exit code of `deploy`. */
export function docFromRow(row: DeploymentWithSteps): { doc: DeploymentDoc; exitCode: number } {
  const status = (row.status === 'running' ? 'failed' : row.status) as DeploymentStatus;
  const doc: DeploymentDoc = {
    id: row.id,
    app: row.app,
    kind: row.kind,
    release: row.release,
    previous: row.previous,
    strategy: row.strategy as StrategyName,
    status,
    ...(row.reason ? { reason: row.reason } : {}),
    url: row.url,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt ?? new Date().toISOString(),
    durationMs: row.durationMs ?? 0,
    steps: row.steps.map((s) => ({
      name: s.name,
      status: s.status as StepStatus,
      startedAt: s.startedAt,
      durationMs: s.durationMs,
      ...(s.message ? { message: s.message } : {}),
    })),
  };
  return { doc, exitCode: EXIT[status] };
}
