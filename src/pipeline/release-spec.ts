import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadReleaseEnv } from '../agent/release-env.js';
import type { Config } from '../config/types.js';
import { instanceEnvironment, loadEnvFile } from '../gates/env.js';
import { protectSecrets, secretValues } from '../gates/redact.js';
import type { ReleaseRow } from '../store/index.js';
import type { ConnectOptions, ReleaseSpec } from '../targets/types.js';

/**
 * What a release needs to run, from the config it was deployed with. `fileVars` are the env
 * file's variables; the instance environment is computed here, in the deploying CLI, from them
 * and this shell (see instanceEnvironment), and travels with the spec: the target runs instances
 * with exactly that, whoever started it and whenever they restart.
 */
export function specFor(id: string, dir: string, config: Config, fileVars: Record<string, string>, envFile?: string): ReleaseSpec {
  // A config stored by an older ccom has no env.values.
  const layers = { values: config.env.values ?? {}, defaults: productionDefaults(dir, config.start) };
  const { env, secretNames } = instanceEnvironment(fileVars, config.env.required, process.env, layers);
  return specWith(id, dir, config, env, secretNames, envFile);
}

/** The first word of a start command that runs a Node app (directly or through a package manager). */
const NODE_LAUNCHER = /^(node|npm|npx|yarn|pnpm|\S*node_modules\/\.bin\/\S+)(\s|$)/;

/**
 * What every instance gets unless the env file, env.values or a required variable from the
 * shell sets it (they all win): HOST and HOSTNAME of 127.0.0.1, so apps that read them (Next.js,
 * Nuxt, many templates) listen on loopback only, the proxy being the public door; and, for Node
 * apps (a package.json in the release, or a start run by node or a package manager),
 * NODE_ENV=production, without which Express shows stack traces to the public and frameworks
 * run their development paths.
 */
export function productionDefaults(releaseDir: string, start: string): Record<string, string> {
  const loopback = { HOST: '127.0.0.1', HOSTNAME: '127.0.0.1' };
  const isNode = existsSync(join(releaseDir, 'package.json')) || NODE_LAUNCHER.test(start.trim());
  return isNode ? { NODE_ENV: 'production', ...loopback } : loopback;
}

function specWith(id: string, dir: string, config: Config, env: Record<string, string>, secretNames: string[], envFile?: string): ReleaseSpec {
  return {
    id,
    dir,
    start: config.start,
    env,
    secretNames,
    envFile,
    health: { ...config.health },
    stopTimeoutMs: config.stopTimeoutMs,
    memoryLimit: config.limits?.memory,
    drainTimeoutMs: config.drainTimeoutMs,
    // A config stored by an older ccom has no logs section: the agent's default applies.
    ...(config.logs ? { logMaxBytes: config.logs.maxSize } : {}),
    ...(config.flags ? { flagsFile: config.flags.file } : {}),
  };
}

/** How the target exposes and watches the app, from its config. */
export function connectOptions(config: Config): ConnectOptions {
  const { host, port, httpPort } = config.proxy;
  return {
    app: config.app,
    proxy: { host, port },
    monitoring: { port: config.monitoring.port, portFromDefault: config.monitoring.portFromDefault, business: config.monitoring.business },
    alerts: config.alerts,
    ...(config.tls && config.domains ? { https: { domains: config.domains, tls: config.tls, httpPort: httpPort ?? 80 } } : {}),
  };
}

/**
 * Rebuilds the spec of a stored release (for rollback): its own config and the environment it
 * ran with, as saved when its instances first started. A release started by an older ccom has
 * none saved: it gets today's env file and this shell, and `warning` names the required
 * variables that are then missing (it starts without them; the app may fail its health check).
 */
export function specForStored(appDir: string, row: ReleaseRow): { spec: ReleaseSpec; config: Config; warning?: string } {
  const config = JSON.parse(row.configJson) as Config;
  const envFile = config.env.file === undefined ? undefined : resolve(appDir, config.env.file);
  const saved = savedEnv(appDir, row.id);
  if (saved) {
    protectSecrets(secretValues(saved.env, saved.secretNames));
    return { spec: specWith(row.id, row.dir, config, saved.env, saved.secretNames, envFile), config };
  }
  let fileVars: Record<string, string> = {};
  let missing = config.env.required;
  try {
    const loaded = loadEnvFile(appDir, config.env);
    fileVars = loaded.vars;
    missing = loaded.missing;
  } catch {
    /* the env file is gone or unreadable: only the shell's variables remain */
  }
  const spec = specFor(row.id, row.dir, config, fileVars, envFile);
  if (missing.length === 0) return { spec, config };
  const names = missing.join(', ');
  const warning = `release ${row.id} has no saved environment (an older ccom deployed it), so it starts with today's ${config.env.file ?? 'environment'}; required ${names} ${missing.length > 1 ? 'are' : 'is'} set in neither it nor this shell: export ${missing.length > 1 ? 'them' : 'it'} and roll back again if the app needs ${missing.length > 1 ? 'them' : 'it'}`;
  return { spec, config, warning };
}

function savedEnv(appDir: string, release: string): ReturnType<typeof loadReleaseEnv> {
  try {
    return loadReleaseEnv(appDir, release);
  } catch {
    // Unreadable (not a regular file, corrupt): treated like a release that never had one.
    return undefined;
  }
}
