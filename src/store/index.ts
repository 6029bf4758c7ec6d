export { Store, DB_FILE } from './store.js';
export { SCHEMA_VERSION } from './schema.js';
export { isPidAlive } from './lock.js';
export type { DeploymentPatch, StepPatch } from './deployments.js';
export type * from './types.js';
export type { BackupRow } from './backups.js';
