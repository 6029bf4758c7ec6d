/**
 * The Target contract: where releases run. Strategies speak only to this, so the local
 * agent, SSH hosts and Kubernetes can each implement it in their own folder.
 */
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
  /** Variables from the env file and required process variables; never persisted. */
  env: Record<string, string>;
  /** Where `env` came from, so a restarted agent can load it again (values are never persisted). */
  envFile?: string;
  health: HealthSpec;
  stopTimeoutMs: number;
}

export interface InstanceInfo {
  id: string;
  release: string;
  pid: number;
  port: number;
  healthy: boolean;
  state: string;
  restarts: number;
}

export interface TargetStatus {
  url: string | null;
  weights: Record<string, number>;
  instances: InstanceInfo[];
}

export interface ProbeResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export interface ProbeRequest {
  method: string;
  path: string;
}

import type { MetricsSnapshot } from '../analysis/metrics.js';

export interface Target {
  readonly name: string;
  /**
   * Pre-deployment capacity check, changing nothing: the public port is free or already
   * ours, there is disk for releases. Throws a UserError naming the problem; returns a summary.
   */
  preflight(proxy: { host: string; port: number }, releaseDir: string): Promise<string>;
  /** Make sure the target is reachable (e.g. start the local agent) and serving on `proxy`. */
  connect(proxy: { host: string; port: number }): Promise<void>;
  /** Start `count` instances; resolves when all are healthy, else stops them and rejects with the cause. */
  startInstances(spec: ReleaseSpec, count: number): Promise<InstanceInfo[]>;
  /** Take instances out of the pool, let in-flight requests finish (bounded), then stop them. */
  stopInstances(ids: string[], drainTimeoutMs: number): Promise<void>;
  /** Atomically replace traffic weights (release id -> percent); releases not named get none. */
  setWeights(weights: Record<string, number>): Promise<void>;
  /** A request to one release through a preview route users cannot reach. */
  preview(releaseId: string, req: ProbeRequest): Promise<ProbeResponse>;
  /** A request through the public URL, as a user would send it. */
  publicRequest(req: ProbeRequest): Promise<ProbeResponse>;
  publicUrl(): string | null;
  /** Per-release request counters and latency histograms of public traffic, cumulative. */
  metrics(): Promise<MetricsSnapshot>;
  status(): Promise<TargetStatus>;
  /** Stop everything this target runs for the app. */
  down(): Promise<void>;
}
