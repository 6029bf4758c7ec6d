import type { DeployResult } from '../../pipeline/deploy.js';
import type { CommandContext } from '../run.js';

/** stdout gets the JSON document with --json, else the live URL on success; the exit code follows the outcome. */
export function printResult(ctx: CommandContext, { doc, outcome }: DeployResult): number {
  const { fix: _fix, kind: _kind, ...deployment } = doc;
  ctx.result({ deployment: { ...deployment, ...(doc.fix ? { fix: doc.fix } : {}) } }, doc.status === 'succeeded' && doc.kind !== 'dry-run' ? (doc.url ?? '') : undefined);
  if (outcome.bug) process.stderr.write(`${outcome.bug.stack ?? outcome.bug.message}\n`);
  return outcome.exitCode;
}
