import type { Config } from '../config/types.js';
import { loadEnvFile } from '../gates/env.js';
import type { ReleaseRow } from '../store/index.js';
import type { ConnectOptions, ReleaseSpec } from '../targets/types.js';

/** What a release needs to run, from the config it was deployed with. */
export function specFor(id: string, dir: string, config: Config, env: Record<string, string>, envFile?: string): ReleaseSpec {
  return {
    id,
    dir,
    start: config.start,
    env,
    envFile,
    health: { ...config.health },
    stopTimeoutMs: config.stopTimeoutMs,
    memoryLimit: config.limits?.memory,
    drainTimeoutMs: config.drainTimeoutMs,
  };
}

/** How the target exposes and watches the app, from its config. */
export function connectOptions(config: Config): ConnectOptions {
  return {
    app: config.app,
    proxy: config.proxy,
    monitoring: { port: config.monitoring.port, portFromDefault: config.monitoring.portFromDefault, business: config.monitoring.business },
    alerts: config.alerts,
  };
}

/** Rebuilds the spec of a stored release (for rollback): its own config, today's env file. */
export function specForStored(appDir: string, row: ReleaseRow): { spec: ReleaseSpec; config: Config } {
  const config = JSON.parse(row.configJson) as Config;
  let env: Record<string, string> = {};
  let envFile: string | undefined;
  try {
    const loaded = loadEnvFile(appDir, { ...config.env, required: [] });
    env = loaded.vars;
    envFile = loaded.file;
  } catch {
    /* the env file is gone: the release starts with the process environment only */
  }
  return { spec: specFor(row.id, row.dir, config, env, envFile), config };
}
