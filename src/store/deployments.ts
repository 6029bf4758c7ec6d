import type Database from 'better-sqlite3';
import type { DeploymentRow, DeploymentWithSteps, StepRow } from './types.js';

export type DeploymentPatch = Partial<Omit<DeploymentRow, 'id'>>;
export type StepPatch = Partial<Omit<StepRow, 'name'>>;

// Field -> column maps double as the whitelist for patches (keys never reach SQL otherwise).
const DEPLOYMENT_COLUMNS: Record<keyof DeploymentRow, string> = {
  id: 'id', app: 'app', release: 'release', previous: 'previous', strategy: 'strategy', status: 'status',
  reason: 'reason', url: 'url', startedAt: 'started_at', finishedAt: 'finished_at', durationMs: 'duration_ms',
  deployedBy: 'deployed_by', kind: 'kind',
};
const STEP_COLUMNS: Record<keyof StepRow, string> = {
  name: 'name', status: 'status', startedAt: 'started_at', durationMs: 'duration_ms', message: 'message',
};

const SELECT_DEPLOYMENT = `SELECT ${selectList(DEPLOYMENT_COLUMNS)} FROM deployments`;
const SELECT_STEPS = `SELECT ${selectList(STEP_COLUMNS)} FROM steps WHERE deployment_id = ? ORDER BY seq`;

function selectList(columns: Record<string, string>): string {
  return Object.entries(columns).map(([field, column]) => `${column} AS ${field}`).join(', ');
}

/** `SET a = @a, …` for the defined keys of a patch; undefined keys are left alone. */
function setClause(columns: Record<string, string>, patch: Record<string, unknown>): string {
  return Object.keys(patch)
    .filter((key) => patch[key] !== undefined && Object.hasOwn(columns, key))
    .map((key) => `${columns[key]} = @${key}`)
    .join(', ');
}

function definedOnly(patch: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
}

export function insertDeployment(db: Database.Database, d: DeploymentRow): void {
  const fields = Object.keys(DEPLOYMENT_COLUMNS) as (keyof DeploymentRow)[];
  db.prepare(
    `INSERT INTO deployments (${fields.map((f) => DEPLOYMENT_COLUMNS[f]).join(', ')})
     VALUES (${fields.map((f) => `@${f}`).join(', ')})`,
  ).run(d);
}

export function updateDeployment(db: Database.Database, id: string, patch: DeploymentPatch): void {
  const { id: _ignored, ...rest } = patch as DeploymentPatch & { id?: string };
  const set = setClause(DEPLOYMENT_COLUMNS, rest);
  if (set === '') return;
  const { changes } = db.prepare(`UPDATE deployments SET ${set} WHERE id = @id`).run({ ...definedOnly(rest), id });
  if (changes === 0) throw new Error(`updateDeployment: no deployment ${id}`);
}

export function getDeployment(db: Database.Database, id: string): DeploymentWithSteps | undefined {
  // One read transaction so the row and its steps come from the same snapshot.
  return db.transaction(() => {
    const row = db.prepare<[string], DeploymentRow>(`${SELECT_DEPLOYMENT} WHERE id = ?`).get(id);
    return row && { ...row, steps: db.prepare<[string], StepRow>(SELECT_STEPS).all(id) };
  })();
}

/** Newest first, without steps (use getDeployment for those). */
export function listDeployments(db: Database.Database, limit: number): DeploymentRow[] {
  return db
    .prepare<[number], DeploymentRow>(`${SELECT_DEPLOYMENT} ORDER BY started_at DESC, seq DESC LIMIT ?`)
    .all(limit);
}

/** How many deployments (and rollbacks) ended with each status. */
export function countByStatus(db: Database.Database): Record<string, number> {
  const rows = db.prepare<[], { status: string; n: number }>('SELECT status, COUNT(*) AS n FROM deployments GROUP BY status').all();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export function runningDeployment(db: Database.Database): DeploymentWithSteps | undefined {
  const row = db
    .prepare<[], { id: string }>(`SELECT id FROM deployments WHERE status = 'running' ORDER BY seq DESC LIMIT 1`)
    .get();
  return row && getDeployment(db, row.id);
}

export function addStep(db: Database.Database, deploymentId: string, step: StepRow): void {
  db.prepare(
    `INSERT INTO steps (deployment_id, name, status, started_at, duration_ms, message)
     VALUES (@deploymentId, @name, @status, @startedAt, @durationMs, @message)`,
  ).run({ ...step, deploymentId });
}

/** Patches the most recently added step of that name (a step may repeat, e.g. canary analysis). */
export function updateStep(db: Database.Database, deploymentId: string, name: string, patch: StepPatch): void {
  const { name: _ignored, ...rest } = patch as StepPatch & { name?: string };
  const set = setClause(STEP_COLUMNS, rest);
  if (set === '') return;
  const { changes } = db
    .prepare(
      `UPDATE steps SET ${set} WHERE seq = (
         SELECT max(seq) FROM steps WHERE deployment_id = @deploymentId AND name = @stepName)`,
    )
    .run({ ...definedOnly(rest), deploymentId, stepName: name });
  if (changes === 0) throw new Error(`updateStep: no step ${name} in deployment ${deploymentId}`);
}
