/**
 * The Target contract: where releases run. Strategies speak only to this, so the local
 * agent, SSH hosts and Kubernetes can each implement it in their own folder. A leaf: it imports
 * only its own shapes (./contract/), which the config, analysis, doctor and alerts layers share.
 * How a target talks to what runs the app (the local agent's wire protocol, its state file) is
 * the target's own business, so this contract can change without changing either.
 */
import type { TargetAlert } from './contract/alerts.js';
import type { AnalysisThresholds } from './contract/analysis.js';
import type { CapacityNeeds, Check } from './contract/checks.js';
import type { MetricsSnapshot } from './contract/metrics.js';
import type { ProbeRequest, ProbeResponse, WarmPlan, WarmReport } from './contract/probes.js';
import type { HttpsOptions } from './contract/tls.js';

export type { AlertSettings, DeploymentAlertEvent, DeploymentStatus, TargetAlert } from './contract/alerts.js';
export type { AnalysisThresholds } from './contract/analysis.js';
export type { CapacityNeeds, Check } from './contract/checks.js';
export type { MetricsSnapshot, ReleaseMetrics } from './contract/metrics.js';
export type { ProbeRequest, ProbeResponse, WarmPlan, WarmReport } from './contract/probes.js';
export type { HttpsOptions, TlsOptions } from './contract/tls.js';

export interface HealthSpec {
  path: string;
  intervalMs: number;
  timeoutMs: number;
}

/** Everything a target needs to run instances of one immutable release. */
export interface ReleaseSpec {
  id: string;
  /** The release's immutable directory (meaning is target-specific). */
  dir: string;
  start: string;
  /**
   * The instances' whole environment but PORT and CCOM_*, computed by the deploying CLI (the
   * shell's PATH/HOME/locale, required variables from the shell, the env file). The target
   * keeps it with the release, readable by the user only, and starts and restarts instances
   * with it alone; it is never in history, logs, `--json` or webhooks.
   */
  env: Record<string, string>;
  /** Names in `env` whose values are secrets: redacted from any output shown for the release. */
  secretNames: string[];
  /** The env file, for a spec saved by an older ccom that kept no environment: loaded again then. */
  envFile?: string;
  health: HealthSpec;
  stopTimeoutMs: number;
  /** Resident memory (bytes) above which an instance is restarted. */
  memoryLimit?: number;
  /** How long an instance restarted while still alive may finish in-flight requests. */
  drainTimeoutMs?: number;
  /** Size at which an instance's log is rotated. */
  logMaxBytes?: number;
  /** The flagd flag file, relative to `dir`: its flags are served over OFREP to the instances. */
  flagsFile?: string;
}

export interface InstanceInfo {
  id: string;
  release: string;
  /** The app's process: with `npm start`, the node process below npm. */
  pid: number;
  /** The process the target started and signals (npm), when it is not the app itself. */
  groupPid?: number;
  /** CPU time of the instance's whole process tree, when the target can measure it. */
  cpuSeconds?: number;
  port: number;
  healthy: boolean;
  state: string;
  restarts: number;
  /** Resident memory of the instance's whole process tree, when the target can measure it. */
  rssBytes?: number;
  /** Why an instance in state 'failed' cannot run, with the fix. */
  problem?: string;
}

/** How the app is exposed and watched; sent on every deploy so config changes take effect. */
export interface ConnectOptions {
  app: string;
  proxy: { host: string; port: number };
  /** `portFromDefault`: the port was not chosen by the user and may move to the next free one. */
  monitoring: { port: number; portFromDefault?: boolean; business: { name: string; method: string; path: string }[] };
  /** Where the target reports what happens between deploys (its agent crashed and came back). */
  alerts?: TargetAlert['alerts'];
  /** HTTPS on the public port for these names (the first is the URL), with certificates from `tls` (relative paths from the app directory). */
  https?: HttpsOptions;
}

export interface TargetStatus {
  url: string | null;
  /** The address the public port is bound to (the URL may name a domain instead). */
  address?: { host: string; port: number } | null;
  /** The certificate the public port serves, and why its last renewal failed (null: it did not). */
  tls?: { names: string[]; issuer: string; validTo: string; problem: string | null } | null;
  /** Where Prometheus can scrape, and why not when it cannot. */
  monitoring?: { url: string | null; problem: string | null };
  weights: Record<string, number>;
  instances: InstanceInfo[];
  /**
   * What serves the app and supervises its instances (the local agent), and how often it was
   * started again after dying. `pid` when it is a process the target can name.
   */
  supervisor?: { id: string; pid?: number; restarts: number };
  /** The running post-switch watch, else the last one's outcome. */
  watch?: WatchReport | null;
}

/**
 * What a target does for a deployment whose process dies while it moves traffic. The lease is
 * held by the process that calls `guardTraffic` (how the target tells it is gone is its own:
 * the local target watches that process's pid).
 */
export interface TrafficGuard {
  /** The weights that served before the deployment began. */
  fallback: Record<string, number>;
  /** The deployment's history row and its release, to mark them when the target steps in. */
  deploymentId: string;
  release: string;
  /** The webhook to tell (the deployment's own alert would never be sent). */
  alert?: TargetAlert;
}

/**
 * A post-switch watch handed to the target: it judges `release`'s live traffic for `durationMs`
 * against `previous`, whose instances stay warm (weight 0), and moves traffic back on a regression.
 */
export interface WatchHandoff {
  deploymentId: string;
  release: string;
  previous: string;
  /** Instances of the new release (a crash fails the watch) and the warm ones of the previous. */
  releaseIds: string[];
  previousIds: string[];
  analysis: AnalysisThresholds;
  durationMs: number;
  drainTimeoutMs: number;
  alert?: TrafficGuard['alert'];
}

export type WatchStatusName = 'running' | 'passed' | 'rolled_back' | 'ended' | 'failed';

/** A watch as the target reports it: running until `until`, or how it ended and why. */
export interface WatchReport {
  deploymentId: string;
  release: string;
  previous: string;
  until: string;
  status: WatchStatusName;
  reason?: string;
  endedAt?: string;
}

/**
 * Which output `logs` reads: one release's instances (all releases when `release` is not given),
 * only `instances` when given (the live ones), the last `lines` of each or everything since
 * `sinceMs`, then, when following, what they and any instance started later write next.
 */
export interface LogQuery {
  release?: string;
  instances?: string[];
  lines: number;
  /** Epoch ms: only lines written since then. */
  sinceMs?: number;
  /** Keep yielding what the instances write next until the consumer stops iterating. */
  follow: boolean;
}

/** One line (or, when following, one piece as written) of an instance's output. */
export interface LogLine {
  instance: string;
  release: string;
  line: string;
  /** When it was written (ISO-8601), where the target knows it. */
  at?: string;
}

export interface Target {
  readonly name: string;
  /**
   * Capacity checks, changing nothing: disk, memory, CPU load, the public and monitoring ports
   * (free, or already this app's). Used by `ccom doctor` and pre-deployment validation.
   */
  capacity(needs: CapacityNeeds): Promise<Check[]>;
  /** The router's table agrees with live, healthy instances and with the live release. */
  routingCheck(liveRelease: string | null): Promise<Check>;
  /** Reach the target without changing what it serves (status, down): e.g. restart a killed agent. */
  attach(): Promise<void>;
  /** Make sure the target is reachable (e.g. start the local agent), serving on `proxy`, monitored. */
  connect(options: ConnectOptions): Promise<void>;
  /** Start `count` instances; resolves when all are healthy, else stops them and rejects with the cause. */
  startInstances(spec: ReleaseSpec, count: number): Promise<InstanceInfo[]>;
  /** Take instances out of the pool, let in-flight requests finish (bounded), then stop them. */
  stopInstances(ids: string[], drainTimeoutMs: number): Promise<void>;
  /** Atomically replace traffic weights (release id -> percent); releases not named get none. */
  setWeights(weights: Record<string, number>): Promise<void>;
  /**
   * While a deployment moves traffic: should process `pid` die before the guard is lifted
   * (null), the target puts `fallback` weights back by itself. A dead man's switch for a deploy
   * killed mid-way, when nothing else would judge or roll back the new release.
   */
  guardTraffic(guard: TrafficGuard | null): Promise<void>;
  /** Starts the post-switch watch (it outlives this process) and says until when it runs. */
  watch(handoff: WatchHandoff): Promise<WatchReport>;
  /**
   * Ends a running watch before another deploy or rollback moves traffic: nothing is stopped,
   * the previous release's warm instances are the caller's to reuse or stop.
   */
  endWatch(): Promise<void>;
  /** The running watch, else the last one's outcome (null: none since the agent's state began). */
  watchStatus(): Promise<WatchReport | null>;
  /** Warm-up requests to one release's instances, sent by the target itself (not judged). */
  warm(releaseId: string, plan: WarmPlan): Promise<WarmReport>;
  /** A request to one release through a preview route users cannot reach. */
  preview(releaseId: string, req: ProbeRequest): Promise<ProbeResponse>;
  /** A request through the public URL, as a user would send it. */
  publicRequest(req: ProbeRequest): Promise<ProbeResponse>;
  publicUrl(): string | null;
  /** Per-release request counters and latency histograms of public traffic, cumulative. */
  metrics(): Promise<MetricsSnapshot>;
  status(): Promise<TargetStatus>;
  /** What runs, starting nothing: null when nothing serves the app (never deployed, after `down`, after a reboot). */
  peek(): Promise<TargetStatus | null>;
  /** Instance output of a release, read where it is kept; rejects (UserError) when there is none. */
  logs(query: LogQuery): AsyncIterable<LogLine>;
  /** Stop everything this target runs for the app. */
  down(): Promise<void>;
}
