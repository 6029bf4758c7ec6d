import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlagFileError, parseFlagFile, type FlagDefinition, type FlagSet } from '../flags/definitions.js';
import { evaluateFlag, isFailure, type Evaluation, type EvaluationContext } from '../flags/evaluate.js';
import { describeOverride, onOffVariant, type FlagOverride } from '../flags/overrides.js';
import { FlagBucketHook } from '../proxy/flag-bucket.js';
import type { MetricsSnapshot } from '../analysis/metrics.js';
import { LATENCY_BOUNDS_MS, type Router } from '../proxy/router.js';
import type { ReleaseSpec } from '../targets/local/wire.js';
import { processRunning } from '../gates/process-group.js';
import { OfrepServer } from './flags-ofrep.js';
import { FlagsStateFile, type GuardRecord, type OverrideRecord } from './flags-state.js';

/** What the flags need to know of the agent. */
export interface FlagsHost {
  appDir: string;
  stateDir: string;
  /** A release's directory and flag file, from the specs the agent keeps. */
  release(id: string): { dir: string; flagsFile?: string } | undefined;
  /** The release with the most traffic: its file is what `ccom flags` and the proxy's attribution read. */
  liveRelease(): string | undefined;
  log(message: string): void;
}

/** A change asked for by `ccom flags set|rollout|off`, resolved against the live file here. */
export type FlagAction = { kind: 'set'; value: string } | { kind: 'rollout'; percent: number } | { kind: 'clear' };

export interface FlagChange {
  flag: string;
  old: OverrideRecord | null;
  new: OverrideRecord | null;
}

const GUARD_POLL_MS = 250;

/**
 * The agent's feature flags: each release's flag file, the app's overrides (flags-state.json),
 * the OFREP server the instances ask, the proxy hook that tags requests with their bucket,
 * and, during a guarded rollout, the per-variant counts the judge reads.
 */
export class AgentFlags {
  readonly hook = new FlagBucketHook();
  private readonly state: FlagsStateFile;
  private server: OfrepServer | null = null;
  private starting: Promise<number> | null = null;
  private readonly sets = new Map<string, { dir: string; set: FlagSet | null; problem?: string }>();
  private changes = 0;
  /** Evaluations served over OFREP, by flag and variant (Prometheus' ccom_flag_evaluations_total). */
  readonly evaluations = new Map<string, { flag: string; variant: string; count: number }>();
  private guardTimer: NodeJS.Timeout | undefined;

  constructor(private readonly host: FlagsHost, private readonly router: Router) {
    this.state = new FlagsStateFile(host.stateDir, host.log);
  }

  /** An agent started again: serve OFREP on the port instances know, and keep a guarded rollout guarded. */
  async resume(specs: Array<{ flagsFile?: string }>): Promise<void> {
    if (this.state.get().ofrepPort === null && !specs.some((s) => s.flagsFile)) return;
    await this.ensureServer().catch((err: Error) => this.host.log(`could not serve OFREP: ${err.message}`));
    const guard = this.state.get().guard;
    if (guard) this.guard(guard);
  }

  /** Before a release with flags starts: OFREP is up and its instances are told where. */
  async prepareSpec(spec: ReleaseSpec): Promise<ReleaseSpec> {
    if (!spec.flagsFile) return spec;
    const port = await this.ensureServer();
    // An OFREP_ENDPOINT the app sets itself (another flag service) wins.
    return { ...spec, env: { OFREP_ENDPOINT: `http://127.0.0.1:${port}/releases/${spec.id}`, ...spec.env } };
  }

  private ensureServer(): Promise<number> {
    this.router.flagBucket = this.hook;
    this.starting ??= (async () => {
      const server = new OfrepServer({
        evaluate: (release, key, context) => this.count(this.evaluate(release, key, context)),
        bulk: (release, context) => this.bulk(release, context).map((e) => this.count(e)),
        version: (release) => `${this.setOf(release)?.digest.slice(0, 12) ?? 'none'}-${this.changes}`,
      });
      const port = await server.listen(this.state.get().ofrepPort, this.host.log);
      this.server = server;
      if (port !== this.state.get().ofrepPort) this.state.update({ ofrepPort: port });
      return port;
    })();
    return this.starting;
  }

  evaluate(release: string | undefined, key: string, context: EvaluationContext): Evaluation {
    const set = this.setOf(release);
    return evaluateFlag(set, key, context, this.state.get().overrides[key]?.override);
  }

  bulk(release: string | undefined, context: EvaluationContext): Evaluation[] {
    const set = this.setOf(release);
    return set ? [...set.flags.keys()].map((key) => this.evaluate(release, key, context)) : [];
  }

  private count(e: Evaluation): Evaluation {
    const variant = isFailure(e) ? `error:${e.errorCode}` : e.variant;
    const id = `${e.key}\u0000${variant}`;
    const entry = this.evaluations.get(id);
    if (entry) entry.count++;
    else this.evaluations.set(id, { flag: e.key, variant, count: 1 });
    return e;
  }

  /** A release's flag set (the live release's when none is named or known), loaded once: release files never change. */
  setOf(release: string | undefined): FlagSet | undefined {
    const id = release && this.host.release(release) ? release : this.host.liveRelease();
    if (id === undefined) return undefined;
    const info = this.host.release(id);
    if (!info?.flagsFile) return undefined;
    const cached = this.sets.get(id);
    if (cached && cached.dir === info.dir) return cached.set ?? undefined;
    const file = join(info.dir, info.flagsFile);
    let entry: { dir: string; set: FlagSet | null; problem?: string };
    try {
      entry = { dir: info.dir, set: parseFlagFile(readFileSync(file, 'utf8'), info.flagsFile) };
    } catch (err) {
      const problem = err instanceof FlagFileError ? err.message : `cannot read ${file}: ${(err as Error).message}`;
      this.host.log(`flags of release ${id}: ${problem}`);
      entry = { dir: info.dir, set: null, problem };
    }
    this.sets.set(id, entry);
    return entry.set ?? undefined;
  }

  /** `ccom flags`: each flag of the live release, what it serves, and overrides whose flag is gone. */
  list(): object {
    const release = this.host.liveRelease();
    const set = this.setOf(release);
    const overrides = this.state.get().overrides;
    const flags = set
      ? [...set.flags.values()].map((f) => ({
          key: f.key,
          state: f.state,
          type: f.type,
          variants: f.variants,
          defaultVariant: f.defaultVariant,
          targeting: f.targeting,
          override: overrides[f.key] ?? null,
          serving: describeOverride(overrides[f.key]?.override) === 'as in the file' ? fileBehaviour(f) : describeOverride(overrides[f.key]?.override),
          rollout: overrides[f.key]?.override.kind === 'rollout' ? (overrides[f.key]?.override as { percent: number }).percent : null,
        }))
      : [];
    const orphaned = Object.entries(overrides).filter(([key]) => set && !set.flags.has(key)).map(([key, record]) => ({ key, override: record }));
    const problem = release ? this.sets.get(release)?.problem : undefined;
    return { release: release ?? null, file: release ? (this.host.release(release)?.flagsFile ?? null) : null, flags, orphanedOverrides: orphaned, guard: this.state.get().guard, ...(problem ? { problem } : {}) };
  }

  /** Applies an operator's change to one flag of the live release; throws a message naming what is wrong. */
  change(key: string, action: FlagAction, by: string, reason?: string): FlagChange {
    const set = this.setOf(undefined);
    const flag = set?.flags.get(key);
    const overrides = { ...this.state.get().overrides };
    const old = overrides[key] ?? null;
    if (action.kind === 'clear') {
      delete overrides[key];
    } else {
      if (!flag) throw new FlagChangeError(set ? `no flag "${key}" in the live release's flag file (flags: ${[...set.flags.keys()].join(', ') || 'none'})` : 'the live release has no flag file', set ? 'see `ccom flags` for the flags there are' : 'set flags: { file: flags.json } in ccom.yaml and deploy');
      overrides[key] = { override: resolveAction(flag, action), by, at: new Date().toISOString(), ...(reason ? { reason } : {}) };
    }
    this.state.update({ overrides });
    this.changes++;
    return { flag: key, old, new: overrides[key] ?? null };
  }

  /** A guarded rollout starts: requests are attributed to `on` / `off` by their bucket, until its CLI is gone. */
  guard(record: GuardRecord | null): void {
    clearInterval(this.guardTimer);
    this.guardTimer = undefined;
    this.state.update({ guard: record });
    if (!record) {
      this.hook.attribute = null;
      return;
    }
    this.hook.variants.clear();
    this.hook.attribute = (bucket) => {
      const e = this.evaluate(undefined, record.flag, { targetingKey: bucket });
      return !isFailure(e) && e.variant === record.on ? 'on' : 'off';
    };
    // The judging CLI died (kill -9, a closed terminal): nobody watches the flag, so it goes off.
    this.guardTimer = setInterval(() => {
      if (processRunning(record.pid)) return;
      const reason = `the guarded rollout's ccom process (pid ${record.pid}) died before it finished: ${record.flag} turned off`;
      this.host.log(reason);
      try {
        const change = this.change(record.flag, { kind: 'set', value: record.off }, 'ccom-agent', reason);
        recordAgentChange(this.host.appDir, change).catch((err: Error) => this.host.log(`could not record the change of ${record.flag}: ${err.message}`));
      } catch (err) {
        this.host.log(`could not turn ${record.flag} off: ${(err as Error).message}`);
      }
      this.guard(null);
    }, GUARD_POLL_MS).unref();
  }

  /** Tells the judging CLI to continue at once or to turn the flag off. */
  decide(flag: string, decision: 'promote' | 'abort'): void {
    const guard = this.state.get().guard;
    if (!guard || guard.flag !== flag) throw new FlagChangeError(`no guarded rollout of ${flag} is running`, 'start one with `ccom flags rollout NAME --steps 10,50,100`');
    this.state.update({ guard: { ...guard, decision } });
  }

  /** The counts of requests served with the guarded flag on and off, shaped as release metrics. */
  metrics(): MetricsSnapshot {
    const releases: MetricsSnapshot['releases'] = {};
    for (const [variant, s] of this.hook.variants) releases[variant] = { requests: s.requests, status5xx: s.status5xx, connectionErrors: s.connectionErrors, latency: s.latency.snapshot() };
    return { at: Date.now(), boundsMs: [...LATENCY_BOUNDS_MS], releases };
  }

  async close(): Promise<void> {
    clearInterval(this.guardTimer);
    await this.server?.close();
  }
}

/** A change the agent refuses: the CLI shows the message and the fix. */
export class FlagChangeError extends Error {
  constructor(message: string, readonly fix: string) {
    super(message);
  }
}

function resolveAction(flag: FlagDefinition, action: Exclude<FlagAction, { kind: 'clear' }>): FlagOverride {
  const variants = Object.keys(flag.variants).join(', ');
  if (action.kind === 'set') {
    const name = Object.hasOwn(flag.variants, action.value) ? action.value : action.value === 'on' || action.value === 'off' ? onOffVariant(flag, action.value) : undefined;
    if (!name) throw new FlagChangeError(`flag "${flag.key}" has no variant "${action.value}" (variants: ${variants})`, `use one of ${variants}`);
    return { kind: 'variant', variant: name };
  }
  const on = onOffVariant(flag, 'on');
  const off = onOffVariant(flag, 'off');
  if (!on || !off || on === off) throw new FlagChangeError(`flag "${flag.key}" has no on and off variants to roll out between (variants: ${variants})`, 'name two variants "on" and "off" (or give it a true and a false variant)');
  return { kind: 'rollout', percent: action.percent, on, off };
}

function fileBehaviour(f: FlagDefinition): string {
  if (f.state === 'DISABLED') return 'disabled';
  return f.targeting ? `targeting (default ${f.defaultVariant ?? 'none'})` : `variant ${f.defaultVariant ?? 'none'}`;
}

/** The audit entry of a change ccom's agent made itself (SQLite is loaded only for it). */
export async function recordAgentChange(appDir: string, change: FlagChange): Promise<void> {
  const { Store } = await import('../store/index.js');
  const store = Store.open(appDir);
  try {
    store.audit('ccom-agent', 'flags.change', { flag: change.flag, old: change.old, new: change.new });
  } finally {
    store.close();
  }
}
