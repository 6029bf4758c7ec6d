import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFile } from '../gates/regular-file.js';
import type { FlagOverride } from '../flags/overrides.js';

/** An operator's decision for one flag, and who took it when (the audit trail has the history). */
export interface OverrideRecord {
  override: FlagOverride;
  by: string;
  at: string;
  /** Why, when ccom itself decided (a guarded rollout's kill switch). */
  reason?: string;
}

/** A guarded rollout in progress: the CLI process judging it, and what `on` and `off` are. */
export interface GuardRecord {
  flag: string;
  pid: number;
  on: string;
  off: string;
  /** `ccom flags promote|abort NAME` from another terminal, read by the judging CLI. */
  decision?: 'promote' | 'abort';
}

export interface FlagsState {
  /** The OFREP port on 127.0.0.1: kept, since running instances were given it in OFREP_ENDPOINT. */
  ofrepPort: number | null;
  overrides: Record<string, OverrideRecord>;
  guard: GuardRecord | null;
}

const EMPTY: FlagsState = { ofrepPort: null, overrides: {}, guard: null };

/**
 * `flags-state.json` in the app's state dir: overrides survive agent restarts and deploys
 * (they belong to the app, not to a release). Written whole, flushed, renamed, like agent-state.json.
 */
export class FlagsStateFile {
  private state: FlagsState = { ...EMPTY };
  readonly file: string;

  constructor(stateDir: string, log: (message: string) => void) {
    this.file = join(stateDir, 'flags-state.json');
    try {
      this.state = { ...EMPTY, ...(JSON.parse(readRegularFile(this.file)) as Partial<FlagsState>) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log(`flag state ${this.file} is unreadable (${(err as Error).message}): starting without overrides`);
    }
  }

  get(): Readonly<FlagsState> {
    return this.state;
  }

  update(patch: Partial<FlagsState>): void {
    this.state = { ...this.state, ...patch };
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(this.state, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}

/** The flag state as the CLI reads it without asking the agent (a deploy's validate step, status). */
export function readFlagsState(stateDir: string): FlagsState {
  try {
    return { ...EMPTY, ...(JSON.parse(readRegularFile(join(stateDir, 'flags-state.json'))) as Partial<FlagsState>) };
  } catch {
    return { ...EMPTY };
  }
}

export function readOverrides(stateDir: string): Record<string, OverrideRecord> {
  return readFlagsState(stateDir).overrides;
}
