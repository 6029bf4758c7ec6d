import { UserError } from '../../errors.js';
import { badEnvName, setStoredEnv } from '../../gates/env-store.js';
import { loadConfig } from '../../config/load.js';
import type { CommandContext } from '../run.js';
import { readSecret } from '../read-secret.js';

/** `ccom env set NAME`: the value from stdin or a prompt that echoes nothing; stored 0600 with the app's state. */
export async function run(ctx: CommandContext): Promise<number> {
  loadConfig(ctx.appDir); // the app's state dir is named by its config: a broken one says so first
  const name = ctx.args[0] ?? '';
  const bad = badEnvName(name);
  if (bad) throw new UserError(`cannot set ${bad}`, { fix: 'name a variable of your app, e.g. `ccom env set DATABASE_URL`' });
  const value = await readSecret(name, { mayPrompt: !ctx.yes });
  if (value === '') throw new UserError(`no value for ${name}: stdin was empty`, { fix: `pipe the value in (\`printf %s "$VALUE" | ccom env set ${name}\`), or \`ccom env unset ${name}\` to remove it` });
  setStoredEnv(ctx.appDir, name, value);
  ctx.say(`✔ ${name} set (${value.length} characters, not shown); it reaches the instances at the next \`ccom deploy\` or \`ccom restart\``);
  ctx.result({ name, set: true, appliedAt: 'next deploy or restart' });
  return 0;
}
