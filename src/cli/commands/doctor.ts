import { runDoctor } from '../../doctor/run.js';
import { ExitCode } from '../../errors.js';
import type { CommandContext } from '../run.js';

const MARK = { pass: '✔', warn: '⚠', fail: '✖' } as const;

export async function run(ctx: CommandContext): Promise<number> {
  const checks = await runDoctor(ctx.appDir);
  for (const check of checks) {
    ctx.say(`${MARK[check.status]} ${check.name}: ${check.message}`);
    if (check.fix && check.status !== 'pass') ctx.say(`    fix: ${check.fix}`);
  }
  const failed = checks.filter((c) => c.status === 'fail');
  ctx.say(failed.length ? `❌ ${failed.length} check(s) failed` : '✅ all checks passed');
  ctx.result({ checks });
  return failed.length ? ExitCode.Blocked : ExitCode.Succeeded;
}
