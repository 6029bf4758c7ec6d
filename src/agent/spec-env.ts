import { baseEnvironment, loadEnvFile } from '../gates/env.js';
import { redact, secretValues } from '../gates/redact.js';
import type { ReleaseSpec } from '../targets/local/wire.js';
import { BootFailure } from './boot-wait.js';
import { loadReleaseEnv } from './release-env.js';
import type { PersistedSpec } from './state-file.js';

/**
 * A persisted spec (agent-state.json holds no values) with the environment saved when the
 * release's instances first started: what a restarted agent, or one started after a reboot,
 * runs them with.
 */
export function withSavedEnv(appDir: string, spec: PersistedSpec, log: (message: string) => void): ReleaseSpec {
  try {
    const saved = loadReleaseEnv(appDir, spec.id);
    if (saved) return { ...spec, env: saved.env, secretNames: saved.secretNames };
  } catch (err) {
    log(`the saved environment of ${spec.id} is unreadable: ${(err as Error).message}`);
  }
  return legacySpec(appDir, spec, log);
}

/**
 * An agent of an older ccom started this release and saved no environment: its env file is
 * loaded again, with PATH/HOME/locale from this agent, until the next deploy ships one.
 */
function legacySpec(appDir: string, spec: PersistedSpec, log: (message: string) => void): ReleaseSpec {
  let fileVars: Record<string, string> = {};
  if (spec.envFile) {
    try {
      fileVars = loadEnvFile(appDir, { file: spec.envFile, required: [] }).vars;
    } catch (err) {
      log(`could not reload ${spec.envFile} for ${spec.id}: ${(err as Error).message}`);
    }
  }
  log(`release ${spec.id} has no saved environment (started by an older ccom): its instances get ${spec.envFile ?? 'no env file'} and the agent's PATH, HOME and locale`);
  return { ...spec, env: { ...baseEnvironment(process.env), ...fileVars }, secretNames: spec.secretNames ?? Object.keys(fileVars) };
}

/** A failed boot as the deploying user and history see it: the crashed app's output without the release's secrets. */
export function redactedFailure(err: unknown, spec: ReleaseSpec): unknown {
  if (!(err instanceof BootFailure)) return err;
  const secrets = secretValues(spec.env, spec.secretNames);
  return new BootFailure(redact(err.message, secrets), redact(err.detail, secrets), err.fix);
}
