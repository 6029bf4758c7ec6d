import { spawnSync } from 'node:child_process';
import { wasDeployed } from '../../app-state.js';
import { UserError } from '../../errors.js';
import { bringUp } from '../../pipeline/up.js';
import { createHumanReporter } from '../../report/human.js';
import { knownApps } from '../../targets/local/app-overview.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  if (ctx.opts.all) return upAll(ctx);
  if (!wasDeployed(ctx.appDir)) throw new UserError(`nothing to bring up: ${ctx.appDir} was never deployed`, { fix: 'deploy first: `ccom deploy`' });
  const report = createHumanReporter({ stream: process.stderr, fancy: ctx.fancy, quiet: ctx.quiet });
  // After `down` the release starts like a rollback to it; the first line says what this is.
  const up = await bringUp(ctx.appDir, (event) => (event.type === 'start' ? ctx.say(`⏫ CCOM UP – Starting ${event.app} again...`) : report(event)), { onlyLive: Boolean(ctx.opts.onlyLive) });
  if (!up.deployment && up.exitCode === 0 && up.how !== 'left stopped') ctx.say(up.how === 'already serving' ? `✔ ${up.app} is already up: release ${up.release} serves at ${up.url ?? '(no URL)'}` : `🎉 Your app is live at ${up.url ?? '(no URL)'}! All systems green.\n  release ${up.release} is served again`);
  const { exitCode: _code, ...doc } = up;
  ctx.result(doc, up.exitCode === 0 ? (up.url ?? '') : undefined);
  return up.exitCode;
}

/**
 * `ccom up --all` (what `ccom startup` runs at boot): every app whose release is live but not
 * served (a reboot), one `ccom up` each in its own process, so one app's failure cannot stop the
 * others. Apps stopped with `ccom down` stay stopped.
 */
function upAll(ctx: CommandContext): number {
  let worst = 0;
  const results: Array<{ app: string; dir: string; exitCode: number }> = [];
  for (const app of knownApps()) {
    if (!app.appDir) continue;
    const child = spawnSync(process.execPath, [process.argv[1] ?? '', 'up', '-C', app.appDir, '--only-live', ...(ctx.quiet ? ['--quiet'] : [])], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exitCode = child.status ?? 3;
    results.push({ app: app.name, dir: app.appDir, exitCode });
    worst = Math.max(worst, exitCode);
  }
  if (results.length === 0) ctx.say('no apps on this machine');
  ctx.result({ apps: results }, results.map((r) => `${r.app}\t${r.exitCode === 0 ? 'up' : `failed (exit ${r.exitCode})`}`).join('\n'));
  return worst;
}
