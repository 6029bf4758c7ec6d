import { detectApp, renderConfigYaml, writeConfig } from '../../config/index.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  const detected = detectApp(ctx.appDir);
  const file = writeConfig(ctx.appDir, renderConfigYaml(detected), { force: Boolean(ctx.opts.force) });
  ctx.say(`✔ detected ${detected.app}: start \`${detected.start}\`, health ${detected.healthPath}`);
  if (detected.gates.length) ctx.say(`  gates: ${detected.gates.map((g) => g.name).join(', ')}`);
  if (detected.build) ctx.say(`  build: ${detected.build}`);
  for (const note of detected.notes) ctx.say(`  note: ${note}`);
  ctx.say(`✔ wrote ${file} — deploy it with \`ccom deploy\``);
  ctx.result({ file, detected }, file);
  return 0;
}
