/**
 * The local agent's wire protocol: what the CLI and the agent send each other over the control
 * socket, and what the agent keeps in `agent-state.json`. It is the local target's own, not the
 * Target contract: the contract can change (a neutral `supervisor`, a guard without a pid)
 * while these shapes, and so the state file an upgraded agent reads back, stay as they are.
 * `local-target.ts` maps between the two, and the compiler checks each mapping.
 * Shared vocabulary (metrics, alert settings, analysis thresholds, TLS options, probes) comes
 * from the contract's leaf shapes, which the config file format fixes anyway.
 */
import type { TargetAlert } from '../contract/alerts.js';
import type { AnalysisThresholds } from '../contract/analysis.js';
import type { HttpsOptions } from '../contract/tls.js';

export type { MetricsSnapshot } from '../contract/metrics.js';
export type { ProbeRequest, ProbeResponse, WarmPlan, WarmReport } from '../contract/probes.js';
export type { HttpsOptions } from '../contract/tls.js';

/** How the agent starts, health-checks and stops instances of one release (saved per release, without `env`). */
export interface ReleaseSpec {
  id: string;
  dir: string;
  start: string;
  /** The instances' whole environment but PORT and CCOM_*: kept 0600 in `env/`, never in the state file. */
  env: Record<string, string>;
  secretNames: string[];
  /** The env file, for a spec saved by an older ccom that kept no environment: loaded again then. */
  envFile?: string;
  health: { path: string; intervalMs: number; timeoutMs: number };
  stopTimeoutMs: number;
  memoryLimit?: number;
  drainTimeoutMs?: number;
  logMaxBytes?: number;
  /** The flagd flag file, relative to `dir`: its flags are served over OFREP to the instances. */
  flagsFile?: string;
}

export interface InstanceInfo {
  id: string;
  release: string;
  /** The app's process: with `npm start`, the node process below npm. */
  pid: number;
  /** The process the agent started and signals (npm), when it is not the app itself. */
  groupPid?: number;
  cpuSeconds?: number;
  port: number;
  healthy: boolean;
  state: string;
  restarts: number;
  rssBytes?: number;
  /** Why an instance in state 'failed' cannot run, with the fix. */
  problem?: string;
}

/** `POST /v1/configure`, kept as `options` in the state file. */
export interface ConnectOptions {
  app: string;
  proxy: { host: string; port: number };
  monitoring: { port: number; portFromDefault?: boolean; business: { name: string; method: string; path: string }[] };
  alerts?: TargetAlert['alerts'];
  https?: HttpsOptions;
}

/** `POST /v1/lease`, kept as `lease`: the agent restores `fallback` should process `pid` die first. */
export interface AgentLease {
  pid: number;
  fallback: Record<string, number>;
  deploymentId: string;
  release: string;
  alert?: TargetAlert;
}

/** `POST /v1/watch`: the post-switch watch the agent runs (and resumes after a restart). */
export interface WatchHandoff {
  deploymentId: string;
  release: string;
  previous: string;
  releaseIds: string[];
  previousIds: string[];
  analysis: AnalysisThresholds;
  durationMs: number;
  drainTimeoutMs: number;
  alert?: TargetAlert;
}

export type WatchStatusName = 'running' | 'passed' | 'rolled_back' | 'ended' | 'failed';

/** `GET /v1/watch`, kept as `lastWatch`. */
export interface WatchReport {
  deploymentId: string;
  release: string;
  previous: string;
  until: string;
  status: WatchStatusName;
  reason?: string;
  endedAt?: string;
}

/** `GET /v1/status`: what the agent serves, as the agent sees it. */
export interface AgentStatus {
  url: string | null;
  address?: { host: string; port: number } | null;
  tls?: { names: string[]; issuer: string; validTo: string; problem: string | null } | null;
  monitoring?: { url: string | null; problem: string | null };
  weights: Record<string, number>;
  instances: InstanceInfo[];
  /** The agent's own pid, and how often its guardian started it again. */
  agent?: { pid: number; restarts: number };
  /** The proxy's routing table as it is: release → weight and upstream instance ids. */
  table?: { id: string; weight: number; upstreams: string[] }[];
  watch?: WatchReport | null;
}
