import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, Gate } from '../config/types.js';
import { loadEnvFile, protectAppSecrets } from '../gates/env.js';
import { assembleRelease } from '../gates/release.js';
import { runCommand, tailLines } from '../gates/run-command.js';
import { formatMs } from '../report/human.js';
import type { Target } from '../targets/types.js';
import { Blocked } from './failures.js';
import { checkReleaseFlags } from '../flags/check-release.js';
import type { FlagDiff } from '../flags/diff.js';
import type { Steps } from './steps.js';

export interface ValidateInput {
  appDir: string;
  config: Config;
  releaseId: string;
  releasesDir: string;
  steps: Steps;
  target: Target;
}

export interface ValidatedRelease {
  dir: string;
  digest: string;
  env: Record<string, string>;
  envFile?: string;
  /** With flags.file: the flags this release adds, removes and changes against the live one. */
  flags?: FlagDiff;
}

/**
 * Phase 1, pre-deployment validation. Touches nothing that runs; any failure throws Blocked
 * and removes the half-made release, so a blocked deploy leaves no trace but its history row.
 */
export async function validate(input: ValidateInput): Promise<ValidatedRelease> {
  const { appDir, config, steps } = input;
  if (config.migrations?.run && !config.backup) {
    // A migration that fails half-way must be undone; without a backup there is nothing to undo it with.
    throw new Blocked('migrations.run is set but backup is not: a failed migration could not be undone', {
      fix: 'add backup.run and backup.restore to ccom.yaml (e.g. cp data/app.db "$CCOM_BACKUP_DIR/")',
    });
  }
  protectAppSecrets(appDir, config.env);
  for (const gate of config.gates) {
    await steps.run(`gate:${gate.name}`, (step) => runGate(appDir, gate, step.output).then((m) => step.message(m)), { required: gate.required });
  }
  if (config.build?.command) {
    const command = config.build.command;
    await steps.must('build', async (step) => step.message(await runChecked('build', command, appDir, config.build?.timeoutMs ?? 600_000, undefined, {}, step.output)));
  } else {
    steps.skip('build', 'no build.command configured');
  }
  const dir = join(input.releasesDir, input.releaseId);
  try {
    const release = await steps.must('release', async (step) => {
      const made = await assembleRelease({ appDir, releaseDir: dir, artifacts: config.build?.artifacts, shared: config.shared, exclude: config.env.file ? [config.env.file] : [] });
      step.message(`${made.files} files, ${(made.bytes / 1e6).toFixed(1)} MB, ${made.digest.slice(0, 19)}…`);
      return made;
    });
    const flags = config.flags;
    const flagCheck = flags
      ? await steps.must('flags', async (step) => {
          const checked = checkReleaseFlags(appDir, dir, flags.file);
          step.message(checked.message);
          return checked;
        })
      : undefined;
    const env = await steps.must('env', async (step) => {
      const loaded = loadEnvFile(appDir, config.env);
      if (loaded.missing.length > 0) {
        const where = loaded.file ? `${config.env.file} nor the environment` : 'the environment (no env.file configured)';
        throw new Blocked(`missing required environment variable${loaded.missing.length > 1 ? 's' : ''} ${loaded.missing.join(', ')}: set in neither ${where}`, {
          fix: `add ${loaded.missing.join(', ')} to ${config.env.file ?? 'an env file (env.file in ccom.yaml)'} or export ${loaded.missing.length > 1 ? 'them' : 'it'} before deploying`,
        });
      }
      const stored = loaded.stored?.length ? ` + ${loaded.stored.length} from \`ccom env set\`` : '';
      step.message(`${Object.keys(loaded.vars).length - (loaded.stored?.length ?? 0)} variable(s) from ${config.env.file ?? 'no file'}${stored}, ${config.env.required.length} required present`);
      return loaded;
    });
    if (config.migrations?.check) {
      const check = config.migrations.check;
      await steps.must('migrations', async (step) => {
        step.message(await runChecked('migrations check', check, dir, config.migrations?.timeoutMs ?? 600_000, 'migrations not ready', env.vars, step.output));
      });
    } else {
      steps.skip('migrations', 'no migrations.check configured');
    }
    await steps.must('capacity', async (step) => step.message(await checkCapacity(input, release.bytes)));
    return { dir, digest: release.digest, env: env.vars, envFile: env.file, ...(flagCheck ? { flags: flagCheck.diff } : {}) };
  } catch (err) {
    removeRelease(dir);
    throw err;
  }
}

export function removeRelease(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.manifest.json`, { force: true });
}

async function runGate(appDir: string, gate: Gate, onOutput: (text: string) => void): Promise<string> {
  return runChecked(`gate "${gate.name}"`, gate.run, appDir, gate.timeoutMs, undefined, {}, onOutput);
}

/** Runs a command that must exit 0; otherwise Blocked with its output's last lines. */
async function runChecked(what: string, command: string, cwd: string, timeoutMs: number, headline?: string, env: Record<string, string> = {}, onOutput?: (text: string) => void): Promise<string> {
  const result = await runCommand(command, { cwd, timeoutMs, env: { ...process.env, ...env, CCOM: '1' }, ...(onOutput ? { onOutput } : {}) });
  const detail = tailLines(result.output, 30) || '(no output)';
  if (result.timedOut) {
    throw new Blocked(`${headline ? `${headline}: ` : ''}${what} timed out after ${formatMs(timeoutMs)} (\`${command}\`)`, {
      detail,
      fix: `make \`${command}\` finish sooner or raise its timeout in ccom.yaml`,
    });
  }
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    throw new Blocked(`${headline ? `${headline}: ` : ''}${what} failed: \`${command}\` ${how}`, {
      detail,
      fix: `run \`${command}\` in ${cwd} and fix what it reports`,
    });
  }
  return `\`${command}\` passed in ${formatMs(result.durationMs)}`;
}

/**
 * The doctor's capacity checks, as a gate: a failure blocks. A taken monitoring port only warns:
 * the app can serve without /metrics, and `ccom doctor` keeps reporting it.
 */
async function checkCapacity(input: ValidateInput, releaseBytes: number): Promise<string> {
  const { config } = input;
  const checks = await input.target.capacity({
    proxy: config.proxy,
    ...(config.tls && config.proxy.httpPort !== undefined ? { httpPort: config.proxy.httpPort } : {}),
    app: config.app,
    ...(config.domains ? { domains: config.domains } : {}),
    monitoringPort: config.monitoring.port,
    monitoringPortFromDefault: config.monitoring.portFromDefault,
    instances: config.instances,
    memoryPerInstance: config.limits.memory,
    releaseBytes,
  });
  const failed = checks.filter((c) => c.status === 'fail' && c.name !== 'monitoring-port');
  if (failed.length > 0) {
    throw new Blocked(failed.map((c) => `${c.name}: ${c.message}`).join('; '), { fix: failed.map((c) => c.fix).filter(Boolean).join('; ') });
  }
  const notes = checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.message}`);
  return [checks.map((c) => c.name).join(', ') + ' ok', ...notes].join('; ');
}
