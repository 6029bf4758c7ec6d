import { chooseProxyPort, FIRST_PROXY_PORT } from '../../config/choose-port.js';
import { detectApp, renderConfigYaml, writeConfig } from '../../config/index.js';
import type { CommandContext } from '../run.js';

export async function run(ctx: CommandContext): Promise<number> {
  const detected = detectApp(ctx.appDir);
  detected.proxyPort = await chooseProxyPort('127.0.0.1');
  if (detected.proxyPort === undefined) detected.notes.push('ports 8080-8179 are all taken: proxy.port 0 would pick a free one');
  else if (detected.proxyPort !== FIRST_PROXY_PORT) detected.notes.push(`proxy port ${detected.proxyPort}: 8080 is taken by another program or ccom app`);
  const file = writeConfig(ctx.appDir, renderConfigYaml(detected), { force: Boolean(ctx.opts.force) });
  // The notes already name the start command, gates, build and health path: each is said once.
  ctx.say(`✔ detected ${detected.app}`);
  for (const note of detected.notes) ctx.say(`  ${note}`);
  ctx.say(`✔ wrote ${file} — deploy it with \`ccom deploy\``);
  ctx.result({ file, detected }, file);
  return 0;
}
