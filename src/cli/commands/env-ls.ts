import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { loadReleaseEnv } from '../../agent/release-env.js';
import { wasDeployed } from '../../app-state.js';
import { loadConfig } from '../../config/load.js';
import { readStoredEnv } from '../../gates/env-store.js';
import { readRegularFile } from '../../gates/regular-file.js';
import { Store } from '../../store/index.js';
import type { CommandContext } from '../run.js';
import { table } from '../table.js';

interface Variable {
  name: string;
  /** Where the value instances get comes from (the highest layer that sets it). */
  source: string;
  /** Lower layers that set it too (the source wins over them). */
  alsoIn: string[];
  /** The live release runs with this value (false: the next deploy or `ccom restart` applies it). */
  applied: boolean | null;
}

/** `ccom env ls`: every variable ccom gives the instances, by name and where it comes from; never a value. */
export async function run(ctx: CommandContext): Promise<number> {
  const { config } = loadConfig(ctx.appDir);
  // Lowest first, as the deploy layers them (gates/env.ts instanceEnvironment, then ccom env set).
  const layers: Array<[string, Record<string, string>]> = [
    ['env.values (ccom.yaml)', config.env.values ?? {}],
    ['shell (env.required)', Object.fromEntries(config.env.required.filter((n) => process.env[n]).map((n) => [n, process.env[n] as string]))],
    [`env.file (${config.env.file ?? ''})`, config.env.file ? envFileVars(resolve(ctx.appDir, config.env.file)) : {}],
    ['ccom env set', readStoredEnv(ctx.appDir)],
  ];
  const live = liveEnvironment(ctx.appDir);
  const liveEnv = live?.env;
  const names = new Set([...layers.flatMap(([, vars]) => Object.keys(vars)), ...config.env.required]);
  // Secrets the live release still runs with that nothing sets any more (unset, removed from the file).
  const removed = (live?.secretNames ?? []).filter((name) => !names.has(name)).sort();
  const variables: Variable[] = [...names].sort().map((name) => {
    const setting = layers.filter(([, vars]) => vars[name] !== undefined);
    const winner = setting.at(-1);
    const value = winner?.[1][name];
    const fromDeployShell = !winner && liveEnv?.[name] !== undefined;
    const source = winner?.[0] ?? (fromDeployShell ? 'the deploying shell (env.required)' : 'missing (env.required)');
    const applied = liveEnv === undefined ? null : fromDeployShell || (value !== undefined && liveEnv[name] === value);
    return { name, source, alsoIn: setting.slice(0, -1).map(([where]) => where), applied };
  });
  for (const name of removed) variables.push({ name, source: 'removed (the live release still has it)', alsoIn: [], applied: false });
  if (!ctx.json) {
    if (variables.length === 0) ctx.say('no variables: `ccom env set NAME` sets one (ccom adds PATH, HOME, locale, NODE_ENV, HOST and PORT itself)');
    else {
      const rows = variables.map((v) => [v.name, v.source, v.alsoIn.length ? `also in ${v.alsoIn.join(', ')}` : '', v.applied === null ? 'not deployed' : v.applied ? 'live' : 'next deploy or restart']);
      for (const line of table(['NAME', 'FROM', '', 'APPLIED'], rows)) ctx.say(line);
    }
  }
  ctx.result({ variables });
  return 0;
}

function envFileVars(file: string): Record<string, string> {
  try {
    return Object.fromEntries(Object.entries(parseEnv(readRegularFile(file))).filter((e): e is [string, string] => e[1] !== undefined));
  } catch {
    return {}; // the deploy's env step says what is wrong with the file
  }
}

/** The environment the live release's instances run with (as saved at its start), if any. */
function liveEnvironment(appDir: string): { env: Record<string, string>; secretNames: string[] } | undefined {
  if (!wasDeployed(appDir)) return undefined;
  const store = Store.open(appDir);
  const live = store.liveRelease();
  store.close();
  try {
    return live ? loadReleaseEnv(appDir, live.id) : undefined;
  } catch {
    return undefined;
  }
}
