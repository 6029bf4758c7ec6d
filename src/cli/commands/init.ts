import { detectApp, renderConfigYaml, writeConfig } from '../../config/index.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  const detected = detectApp(ctx.appDir);
  const file = writeConfig(ctx.appDir, renderConfigYaml(detected), { force: Boolean(ctx.opts.force) });
  // The notes already name the start command, gates, build and health path: each is said once.
  ctx.say(`✔ detected ${detected.app}`);
  for (const note of detected.notes) ctx.say(`  ${note}`);
  ctx.say(`✔ wrote ${file} — deploy it with \`ccom deploy\``);
  ctx.result({ file, detected }, file);
  return 0;
}
