import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { agentProcesses } from '../../agent/guardian.js';
import { pidAlive } from '../../agent/process-handle.js';
import type { CapacityNeeds, Check, ConnectOptions, InstanceInfo, LogLine, LogQuery, MetricsSnapshot, ProbeRequest, ProbeResponse, ReleaseSpec, Target, TargetStatus, TrafficGuard, WarmPlan, WarmReport, WatchHandoff, WatchReport } from '../types.js';
import { AgentLostMidCall, callAgent, collectResponse, requestRidingRestarts } from './agent-client.js';
import { UserError } from '../../errors.js';
import { agentRunning, ensureAgent } from './ensure-agent.js';
import { localPaths, type LocalPaths } from './paths.js';
import { capacityChecks } from './capacity.js';
import { checkRouting } from './routing-check.js';
import { requestOverTls } from '../../tls/public-request.js';
import { instanceLogs } from './instance-logs.js';
import type * as Wire from './wire.js';
import { handoffOnWire, instancesOffWire, leaseOnWire, optionsOnWire, specOnWire, statusOffWire, watchOffWire } from './wire-mapping.js';

/** The default target: instances on this machine behind ccom's own proxy, run by a per-app agent. */
export class LocalTarget implements Target {
  readonly name = 'local';
  private readonly paths: LocalPaths;
  private url: string | null = null;

  constructor(private readonly appDir: string) {
    this.paths = localPaths(appDir);
  }

  /** Asks a running agent (without starting one) what it serves, then checks this machine. */
  async capacity(needs: CapacityNeeds): Promise<Check[]> {
    const status = await this.runningStatus();
    // Without limits.memory, what the release serving now uses is the best estimate.
    const measured = status ? averageRss(status) : undefined;
    const withEstimate = { ...needs, memoryPerInstance: needs.memoryPerInstance ?? measured };
    return capacityChecks(withEstimate, this.paths.stateDir, { url: status?.url ?? null, address: status?.address ?? null, monitoringUrl: status?.monitoring?.url ?? null });
  }

  async routingCheck(liveRelease: string | null): Promise<Check> {
    const status = await this.runningStatus();
    return checkRouting(status, liveRelease);
  }

  private async runningStatus(): Promise<Wire.AgentStatus | undefined> {
    try {
      return await this.call<Wire.AgentStatus>('GET', '/v1/status');
    } catch {
      return undefined; // no agent running
    }
  }

  async connect(options: ConnectOptions): Promise<void> {
    await ensureAgent(this.appDir, this.paths, options.proxy);
    const { url } = await this.call<{ url: string }>('POST', '/v1/configure', optionsOnWire(options), IDEMPOTENT);
    this.url = url;
  }

  /** Connects without binding a port (status, logs, down). */
  async attach(): Promise<void> {
    await ensureAgent(this.appDir, this.paths);
    this.url = (await this.status()).url;
  }

  async startInstances(spec: ReleaseSpec, count: number): Promise<InstanceInfo[]> {
    try {
      const { instances } = await this.call<{ instances: Wire.InstanceInfo[] }>('POST', '/v1/instances', { spec: specOnWire(spec), count });
      return instancesOffWire(instances);
    } catch (err) {
      if (!(err instanceof AgentLostMidCall)) throw err;
      return this.stopLostStart(spec, err);
    }
  }

  /**
   * The agent died while starting instances: the restarted agent re-adopts any it had launched,
   * at 0% of traffic, unknown to this deploy. They are stopped, so the rollback that follows
   * says "new instances stopped" truthfully and leaves nothing running unaccounted for.
   */
  private async stopLostStart(spec: ReleaseSpec, lost: AgentLostMidCall): Promise<never> {
    const { instances } = await this.call<Wire.AgentStatus>('GET', '/v1/status');
    const orphans = instances.filter((i) => i.release === spec.id).map((i) => i.id);
    await this.stopInstances(orphans, 0);
    throw new UserError(`the ccom agent restarted while starting instances of ${spec.id}; the ${orphans.length} it had started were stopped`, {
      fix: 'deploy again; look at logs/agent.log in the state dir of the app ($CCOM_HOME/apps/<app>/) for why the agent died',
      cause: lost,
    });
  }

  async stopInstances(ids: string[], drainTimeoutMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.call('POST', '/v1/instances/stop', { ids, drainTimeoutMs }, IDEMPOTENT);
  }

  async guardTraffic(guard: TrafficGuard | null): Promise<void> {
    await this.call('POST', '/v1/lease', { lease: guard && leaseOnWire(guard) }, IDEMPOTENT);
  }

  async watch(handoff: WatchHandoff): Promise<WatchReport> {
    return watchOffWire(await this.call<Wire.WatchReport>('POST', '/v1/watch', { handoff: handoffOnWire(handoff) }));
  }

  async endWatch(): Promise<void> {
    await this.call('POST', '/v1/watch/end', { by: 'a new deployment or rollback' }, IDEMPOTENT);
  }

  async watchStatus(): Promise<WatchReport | null> {
    const { watch } = await this.call<{ watch: Wire.WatchReport | null }>('GET', '/v1/watch');
    return watch && watchOffWire(watch);
  }

  async setWeights(weights: Record<string, number>): Promise<void> {
    await this.call('POST', '/v1/weights', { weights }, IDEMPOTENT);
  }

  warm(releaseId: string, plan: WarmPlan): Promise<WarmReport> {
    return this.call<WarmReport>('POST', '/v1/warm', { release: releaseId, plan });
  }

  /** Smoke checks ride out an agent restart like control calls (GET and HEAD only: safe to repeat). */
  preview(releaseId: string, req: ProbeRequest): Promise<ProbeResponse> {
    const path = `/v1/preview/${encodeURIComponent(releaseId)}${req.path}`;
    const safe = req.method === 'GET' || req.method === 'HEAD';
    return requestRidingRestarts(this.paths, req.method, path, undefined, safe, 10_000);
  }

  async publicRequest(req: ProbeRequest): Promise<ProbeResponse> {
    if (!this.url) throw new Error('publicRequest before connect');
    const address = this.url.startsWith('https:') ? (await this.status()).address : undefined;
    if (address) return requestOverTls(`${this.url}${req.path}`, address, req.method);
    return httpRequest(`${this.url}${req.path}`, req.method);
  }

  publicUrl(): string | null {
    return this.url;
  }

  metrics(): Promise<MetricsSnapshot> {
    return this.call<MetricsSnapshot>('GET', '/v1/metrics');
  }

  async status(): Promise<TargetStatus> {
    const status = statusOffWire(await this.call<Wire.AgentStatus>('GET', '/v1/status'));
    this.url = status.url;
    return status;
  }

  /** Reaches a running agent (an outdated one hands over) but never starts one. */
  async peek(): Promise<TargetStatus | null> {
    if (!(await agentRunning(this.paths))) return null;
    await this.attach();
    return this.status();
  }

  /** Reads the instances' log files in the state dir: no agent needed, so it works after `down` too. */
  logs(query: LogQuery): AsyncIterable<LogLine> {
    return instanceLogs(this.paths.logsDir, query);
  }

  /** Stops instances and agent, and returns once the agent (and its guardian) are gone. */
  async down(): Promise<void> {
    const agent = readPid(this.paths.pidFile);
    const processes = agent === undefined ? [] : agentProcesses(agent);
    await this.call('POST', '/v1/shutdown');
    const deadline = Date.now() + AGENT_EXIT_TIMEOUT_MS;
    while (processes.some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  private call<T>(method: string, path: string, body?: unknown, opts?: { idempotent: boolean }): Promise<T> {
    return callAgent<T>(this.paths, method, path, body, opts);
  }
}

/** Calls that set state absolutely (weights, a lease, stopping given ids): sending one twice is harmless. */
const IDEMPOTENT = { idempotent: true };

/** How long `down` waits for the agent to exit after it answered the shutdown request. */
const AGENT_EXIT_TIMEOUT_MS = 5_000;

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function httpRequest(url: string, method: string): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: { 'user-agent': 'ccom-smoke' } }, (res) => collectResponse(res).then(resolve, reject));
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10s')));
    req.on('error', reject);
    req.end();
  });
}

function averageRss(status: Wire.AgentStatus): number | undefined {
  const top = Object.entries(status.weights).sort((a, b) => b[1] - a[1])[0]?.[0];
  const sizes = status.instances.filter((i) => i.release === top && i.rssBytes).map((i) => i.rssBytes as number);
  return sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : undefined;
}
