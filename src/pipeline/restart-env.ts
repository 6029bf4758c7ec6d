import { loadReleaseEnv } from '../agent/release-env.js';
import type { Config } from '../config/types.js';
import { instanceEnvironment, loadEnvFile } from '../gates/env.js';
import type { ReleaseRow } from '../store/index.js';
import type { ReleaseSpec } from '../targets/types.js';
import { Blocked } from './failures.js';
import { productionDefaults, specForStored } from './release-spec.js';

/**
 * The spec `ccom restart` and `ccom up` start a release with: its own config, and its
 * environment computed again the way its deploy did, with today's env file and `ccom env set`
 * values. What came from the deploying shell (PATH, locale, required variables exported then)
 * is taken from the environment saved at that deploy, never from the shell running this
 * command: a restart from another terminal changes only what the user changed on purpose.
 */
export function restartSpec(appDir: string, row: ReleaseRow): { spec: ReleaseSpec; config: Config } {
  const { spec, config } = specForStored(appDir, row);
  const deployShell = loadReleaseEnv(appDir, row.id)?.env ?? spec.env;
  const loaded = loadEnvFile(appDir, config.env, {});
  const layers = { values: config.env.values ?? {}, defaults: productionDefaults(row.dir, config.start) };
  const { env, secretNames } = instanceEnvironment(loaded.vars, config.env.required, deployShell, layers);
  const missing = config.env.required.filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) {
    throw new Blocked(`required variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} would be missing after the restart (unset since release ${row.id} was deployed)`, {
      fix: `set ${missing.length > 1 ? 'them' : 'it'} again with \`ccom env set ${missing[0]}\` (or in ${config.env.file ?? 'an env file'}), then restart`,
    });
  }
  return { spec: { ...spec, env, secretNames }, config };
}
