import type { AlertSettings } from '../targets/contract/alerts.js';
import type { AnalysisThresholds } from '../targets/contract/analysis.js';
import type { TlsOptions } from '../targets/contract/tls.js';

/**
 * The resolved configuration: what `ccom.yaml` / `ccom.json` means after validation and
 * defaults. Durations are milliseconds, percentages are fractions (1% -> 0.01).
 */
export interface Gate {
  name: string;
  run: string;
  timeoutMs: number;
  required: boolean;
}

export interface SmokeCheck {
  path: string;
  method: string;
  status: number;
  contains?: string;
}

export type StrategyName = 'recreate' | 'rolling' | 'blue-green' | 'canary';
export const STRATEGIES: readonly StrategyName[] = ['recreate', 'rolling', 'blue-green', 'canary'];

export type CanaryStep = number | 'pause';

export interface Config {
  app: string;
  start: string;
  build?: { command?: string; artifacts?: string[]; timeoutMs: number };
  shared: string[];
  gates: Gate[];
  /** `values`: non-secret variables inline (stored in history with the config, unlike the file's). */
  env: { file?: string; required: string[]; values: Record<string, string> };
  migrations?: { check?: string; run?: string; timeoutMs: number };
  /** `keep`: backups retained; `restoreOnRollback`: put the data back when a migrated release is rolled back. */
  backup?: { run: string; restore: string; keep: number; restoreOnRollback: boolean };
  /** Per instance: memory (bytes) is checked against free memory before a deploy and enforced while running. */
  limits: { memory?: number };
  /** `maxSize` (bytes): an instance's log is rotated at this size (config/logs-schema.ts). */
  logs: { maxSize: number };
  /** Good releases kept on disk besides the live one. */
  releases: { keep: number };
  instances: number;
  health: { path: string; intervalMs: number; timeoutMs: number };
  smoke: SmokeCheck[];
  strategy: StrategyName;
  canary: { steps: CanaryStep[]; intervalMs: number };
  /** `intervalMs`: how long each batch must stay healthy (and pass analysis) before the next. */
  rolling: { batch: number; intervalMs: number };
  analysis: AnalysisThresholds;
  /** `httpPort`: with tls, the plain-HTTP port for ACME challenges and the redirect to https. */
  proxy: { host: string; port: number; httpPort?: number };
  /** The names the app answers to (with tls): other Host or SNI names get 421. */
  domains?: string[];
  tls?: TlsConfig;
  /** `business`: routes whose outcomes are counted per release (e.g. POST /checkout success share). */
  /** `portFromDefault`: monitoring.port was not set, so a taken 9464 moves to the next free port. */
  monitoring: { port: number; portFromDefault: boolean; business: { name: string; path: string; method: string }[] };
  alerts: AlertSettings;
  /** How long an instance leaving the pool may take to finish its in-flight requests. */
  drainTimeoutMs: number;
  /** How long an instance has to exit after SIGTERM before SIGKILL. */
  stopTimeoutMs: number;
  /** Servers to deploy to over SSH; absent: this machine (the local target). */
  hosts?: string[];
  /** How the hosts are reached; absent keys take their defaults (src/targets/ssh/settings.ts). */
  ssh?: SshConfig;
}

/** `ssh:` as written (durations in ms); defaults are applied where a connection is made. */
export interface SshConfig {
  user?: string;
  identityFile?: string;
  knownHosts?: string;
  proxyJump?: string;
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
}

/** Where the certificate comes from: ACME (`acme`) or files on this machine (`cert`, `key`). */
export type TlsConfig = TlsOptions;

/** A loaded config and where it came from (for messages). */
export interface LoadedConfig {
  config: Config;
  file: string;
  appDir: string;
}
