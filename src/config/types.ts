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
  /** Good releases kept on disk besides the live one. */
  releases: { keep: number };
  instances: number;
  health: { path: string; intervalMs: number; timeoutMs: number };
  smoke: SmokeCheck[];
  strategy: StrategyName;
  canary: { steps: CanaryStep[]; intervalMs: number };
  /** `intervalMs`: how long each batch must stay healthy (and pass analysis) before the next. */
  rolling: { batch: number; intervalMs: number };
  analysis: {
    maxErrorRate: number;
    maxLatencyP99Ms: number;
    maxLatencyRatio: number;
    minRequests: number;
    /** How long a step may stay inconclusive (too little traffic) before `onInconclusive` applies. */
    inconclusiveTimeoutMs: number;
    onInconclusive: 'rollback' | 'promote';
    /** Latency is judged only after a new release served this long (JIT, cold caches). */
    warmupMs: number;
    /** A p99 ratio fails a canary only when it is also this much slower than stable. */
    minLatencyDeltaMs: number;
    /** Requests/s of ccom's own probes to each release while live traffic is short of minRequests (0: off). */
    probeRate: number;
    /** After traffic moved, how long the agent judges the new release with the previous one warm (0: no watch). */
    watchMs: number;
  };
  /** `httpPort`: with tls, the plain-HTTP port for ACME challenges and the redirect to https. */
  proxy: { host: string; port: number; httpPort?: number };
  /** The names the app answers to (with tls): other Host or SNI names get 421. */
  domains?: string[];
  tls?: TlsConfig;
  /** `business`: routes whose outcomes are counted per release (e.g. POST /checkout success share). */
  /** `portFromDefault`: monitoring.port was not set, so a taken 9464 moves to the next free port. */
  monitoring: { port: number; portFromDefault: boolean; business: { name: string; path: string; method: string }[] };
  alerts: { webhook?: string; format: 'json' | 'slack'; timeoutMs: number; retries: number };
  /** How long an instance leaving the pool may take to finish its in-flight requests. */
  drainTimeoutMs: number;
  /** How long an instance has to exit after SIGTERM before SIGKILL. */
  stopTimeoutMs: number;
}

/** Where the certificate comes from: ACME (`acme`) or files on this machine (`cert`, `key`). */
export interface TlsConfig {
  acme?: { email: string; directory: string; caFile?: string };
  cert?: string;
  key?: string;
  /** Send Strict-Transport-Security (one year) with every answer from the app. */
  hsts: boolean;
}

/** A loaded config and where it came from (for messages). */
export interface LoadedConfig {
  config: Config;
  file: string;
  appDir: string;
}
