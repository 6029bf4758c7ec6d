import { loadConfig } from '../../config/load.js';
import { UserError } from '../../errors.js';
import { wasDeployed } from '../../app-state.js';
import { createTarget } from '../../targets/index.js';
import { callAgent } from '../../targets/local/agent-client.js';
import { localPaths } from '../../targets/local/paths.js';
import type { FlagAction, FlagChange } from '../../agent/flags-service.js';
import type { Config } from '../../config/types.js';
import type { GuardRecord } from '../../agent/flags-state.js';
import type { MetricsSnapshot } from '../../analysis/metrics.js';
import { whoAmI } from '../../pipeline/ids.js';
import { describeOverride } from '../../flags/overrides.js';
import { Store } from '../../store/index.js';

/** The agent's flags, as `ccom flags …` speaks to them (the local target's control socket). */
export interface FlagsAgent {
  config: Config;
  list(): Promise<FlagList>;
  change(flag: string, action: FlagAction, reason?: string): Promise<FlagChange>;
  guard(guard: GuardRecord | null): Promise<void>;
  metrics(): Promise<MetricsSnapshot>;
  decide(flag: string, decision: 'promote' | 'abort'): Promise<void>;
}

export interface FlagRow {
  key: string;
  state: string;
  type: string;
  variants: Record<string, unknown>;
  defaultVariant: string | null;
  override: { override: { kind: string }; by: string; at: string; reason?: string } | null;
  serving: string;
  rollout: number | null;
}

export interface FlagList {
  release: string | null;
  file: string | null;
  flags: FlagRow[];
  orphanedOverrides: { key: string; override: unknown }[];
  guard: (GuardRecord & { decision?: string }) | null;
  problem?: string;
}

export async function flagsAgent(appDir: string): Promise<FlagsAgent> {
  const { config } = loadConfig(appDir);
  if (!config.flags) throw new UserError('this app has no feature flags: ccom.yaml sets no flags.file', { fix: 'add `flags: { file: flags.json }` to ccom.yaml (flagd\'s format) and deploy' });
  if (!wasDeployed(appDir)) throw new UserError('this app was never deployed: its flags are served by the deployed release', { fix: 'run `ccom deploy` first' });
  // Any command brings the agent back (after a crash or kill -9).
  await createTarget(appDir, config).attach();
  const socket = localPaths(appDir).socket;
  const by = whoAmI();
  return {
    config,
    list: () => callAgent<FlagList>(socket, 'GET', '/v1/flags'),
    async change(flag, action, reason) {
      const change = await callAgent<FlagChange>(socket, 'POST', '/v1/flags/change', { flag, action, by, reason }, { idempotent: true });
      audit(appDir, by, change, reason);
      return change;
    },
    guard: (guard) => callAgent<void>(socket, 'POST', '/v1/flags/guard', { guard }, { idempotent: true }),
    metrics: () => callAgent<MetricsSnapshot>(socket, 'GET', '/v1/flags/metrics'),
    decide: (flag, decision) => callAgent<void>(socket, 'POST', '/v1/flags/decision', { flag, decision }, { idempotent: true }),
  };
}

/** Every change goes into the audit trail: who, when (the entry's time), old → new. */
function audit(appDir: string, by: string, change: FlagChange, reason?: string): void {
  const store = Store.open(appDir);
  try {
    store.audit(by, 'flags.change', { flag: change.flag, old: change.old, new: change.new, ...(reason ? { reason } : {}) });
  } finally {
    store.close();
  }
}

export function changeLine(change: FlagChange): string {
  return `${change.flag}: ${describeOverride(change.old?.override)} → ${describeOverride(change.new?.override)}`;
}
