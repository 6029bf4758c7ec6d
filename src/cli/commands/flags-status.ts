import { appStateDir } from '../../app-state.js';
import { readFlagsState, type GuardRecord, type OverrideRecord } from '../../agent/flags-state.js';
import { describeOverride } from '../../flags/overrides.js';

/** `ccom status`'s `flags`: the flags changed at run time (overrides) and a guarded rollout under way. */
export interface FlagsStatus {
  overrides: Record<string, OverrideRecord>;
  guard: GuardRecord | null;
}

export function flagsStatus(appDir: string): FlagsStatus {
  const state = readFlagsState(appStateDir(appDir));
  return { overrides: state.overrides, guard: state.guard };
}

export function flagsStatusLines(s: FlagsStatus): string[] {
  const lines = Object.entries(s.overrides).map(([key, r]) => `  flag ${key}: ${describeOverride(r.override)} (by ${r.by} at ${r.at}${r.reason ? `: ${r.reason}` : ''})`);
  if (s.guard) lines.push(`  guarded rollout of flag ${s.guard.flag} running (pid ${s.guard.pid})`);
  return lines;
}
