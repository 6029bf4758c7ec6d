import { ExitCode, UserError } from '../../errors.js';
import { processRunning } from '../../gates/process-group.js';
import { readControl, sendDecision } from '../../pipeline/control.js';
import { docFromRow } from '../../pipeline/doc-from-row.js';
import { whoAmI } from '../../pipeline/ids.js';
import { Store } from '../../store/index.js';
import { wasDeployed } from '../../app-state.js';
import type { CommandContext } from '../run.js';

/**
 * `ccom promote` / `ccom abort`: tells the running deployment (in another terminal) what to do,
 * then waits for it to finish and reports its outcome with the same JSON and exit code.
 */
export async function decide(ctx: CommandContext, command: 'promote' | 'abort'): Promise<number> {
  if (!wasDeployed(ctx.appDir)) throw new UserError('no deployment in progress: this app was never deployed', { fix: 'start one with `ccom deploy`' });
  const store = Store.open(ctx.appDir);
  try {
    const running = store.runningDeployment();
    if (!running) throw new UserError(`no deployment in progress to ${command}`, { fix: 'see `ccom status`; a canary at a `pause` step, or waiting for evidence, waits for promote' });
    const control = readControl(store, running.id);
    if (command === 'promote' && !control.paused && !control.waiting) {
      throw new UserError(`deployment ${running.id} is not waiting for anyone (it is at step ${control.step ?? running.steps.at(-1)?.name ?? 'start'})`, {
        fix: 'promote continues a canary at a `pause` step or one waiting for evidence; `ccom abort` stops one at any step',
      });
    }
    const by = whoAmI();
    sendDecision(store, running.id, { command, by });
    store.audit(by, `deploy.${command}`, { deployment: running.id });
    ctx.say(`${command === 'promote' ? '▶' : '■'} ${command} sent to deployment ${running.id}; waiting for it to finish…`);
    for (;;) {
      const row = store.getDeployment(running.id);
      if (row && row.status !== 'running') {
        const { doc, exitCode } = docFromRow(row);
        const { kind: _kind, ...deployment } = doc;
        ctx.say(`deployment ${doc.id}: ${doc.status}${doc.reason ? ` - ${doc.reason}` : ''}`);
        ctx.result({ deployment }, doc.status === 'succeeded' ? (doc.url ?? '') : undefined);
        return exitCode;
      }
      // A deployment whose process died never finishes its row: do not wait for it forever.
      // (The lock is released a moment before the row is written: look again before concluding.)
      const holder = store.lockHolder();
      const gone = !holder || holder.deploymentId !== running.id || !processRunning(holder.pid);
      if (gone && (await finishedWithin(store, running.id, 2000)) === false) {
        throw new UserError(`deployment ${running.id} stopped without finishing (its process is gone)`, {
          exitCode: ExitCode.RollbackFailed,
          fix: 'run `ccom status` to see what serves, then `ccom rollback` or `ccom deploy` again',
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    store.close();
  }
}

async function finishedWithin(store: Store, id: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (store.getDeployment(id)?.status !== 'running') return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
