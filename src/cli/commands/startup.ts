import { bootCommand } from '../../startup/boot-command.js';
import { cronLine, installCron, removeCron } from '../../startup/crontab.js';
import { chooseBootSystem } from '../../startup/detect.js';
import { installUnit, lingerAdvice, removeUnit, unitFile, unitText } from '../../startup/systemd.js';
import type { CommandContext } from '../run.js';

/**
 * `ccom startup`: the apps come back after a reboot. One entry for all of this user's apps runs
 * `ccom up --all`, which starts every app whose release was live (apps stopped with `ccom down`
 * stay stopped). `--print` shows it and writes nothing; `--remove` undoes it.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const system = chooseBootSystem(ctx.opts.system as string | undefined);
  const boot = bootCommand();
  if (ctx.opts.remove) {
    const removed = system === 'systemd' ? removeUnit() : removeCron();
    ctx.say(removed ? `✔ removed ${system === 'systemd' ? unitFile() : "ccom's line from this user's crontab"}: the apps no longer start at boot` : `nothing to remove: no ${system === 'systemd' ? unitFile() : 'ccom line in the crontab'}`);
    ctx.result({ system, removed });
    return 0;
  }
  const text = system === 'systemd' ? unitText(boot) : `${cronLine(boot)}\n`;
  const where = system === 'systemd' ? unitFile() : "this user's crontab";
  const next = system === 'systemd' ? [lingerAdvice()] : [];
  if (ctx.opts.print) {
    if (!ctx.json) {
      ctx.say(`would write to ${where}${system === 'systemd' ? ', then `systemctl --user daemon-reload` and `systemctl --user enable ccom.service`' : ' (other lines kept)'}:`);
      process.stdout.write(text);
      for (const step of next) ctx.say(`then: ${step}`);
    }
    ctx.result({ system, written: false, where, text, next });
    return 0;
  }
  if (system === 'systemd') installUnit(boot);
  else installCron(boot);
  ctx.say(`✔ wrote ${where}: at boot \`ccom up --all\` starts every app whose release is live (\`ccom ls\` lists them; apps stopped with \`ccom down\` stay stopped)`);
  for (const step of next) ctx.say(`  next: ${step}`);
  ctx.result({ system, written: true, where, text, next });
  return 0;
}
