import { loadConfig } from '../../config/load.js';
import { unsetStoredEnv } from '../../gates/env-store.js';
import type { CommandContext } from '../run.js';

/** `ccom env unset NAME`: forgets a variable set with `ccom env set`. */
export async function run(ctx: CommandContext): Promise<number> {
  const { config } = loadConfig(ctx.appDir);
  const name = ctx.args[0] ?? '';
  const removed = unsetStoredEnv(ctx.appDir, name);
  const elsewhere = config.env.values?.[name] !== undefined ? ' (env.values in ccom.yaml still sets it)' : '';
  if (removed) ctx.say(`✔ ${name} unset${elsewhere}; the instances lose it at the next \`ccom deploy\` or \`ccom restart\``);
  else ctx.say(`${name} was not set with \`ccom env set\`${elsewhere}: nothing changed (\`ccom env ls\` shows where each variable comes from)`);
  ctx.result({ name, unset: removed });
  return 0;
}
