import { request } from 'node:http';
import type { MetricsSnapshot } from '../../analysis/metrics.js';
import type { InstanceInfo, ProbeRequest, ProbeResponse, ReleaseSpec, Target, TargetStatus } from '../types.js';
import { callAgent, socketRequest } from './agent-client.js';
import { ensureAgent } from './ensure-agent.js';
import { localPaths, type LocalPaths } from './paths.js';
import { localPreflight } from './preflight.js';

/** The default target: instances on this machine behind ccom's own proxy, run by a per-app agent. */
export class LocalTarget implements Target {
  readonly name = 'local';
  private readonly paths: LocalPaths;
  private url: string | null = null;

  constructor(private readonly appDir: string) {
    this.paths = localPaths(appDir);
  }

  /** Asks a running agent which URL it serves (without starting one), then checks port and disk. */
  async preflight(proxy: { host: string; port: number }, releaseDir: string): Promise<string> {
    let ourUrl: string | null = null;
    try {
      ourUrl = (await this.call<TargetStatus>('GET', '/v1/status')).url;
    } catch {
      /* no agent running: the port must simply be free */
    }
    return localPreflight(proxy, ourUrl, releaseDir);
  }

  async connect(proxy: { host: string; port: number }): Promise<void> {
    await ensureAgent(this.appDir, this.paths);
    const { url } = await this.call<{ url: string }>('POST', '/v1/listen', proxy);
    this.url = url;
  }

  /** Connects without binding a port (status, logs, down). */
  async attach(): Promise<void> {
    await ensureAgent(this.appDir, this.paths);
    this.url = (await this.status()).url;
  }

  async startInstances(spec: ReleaseSpec, count: number): Promise<InstanceInfo[]> {
    const { instances } = await this.call<{ instances: InstanceInfo[] }>('POST', '/v1/instances', { spec, count });
    return instances;
  }

  async stopInstances(ids: string[], drainTimeoutMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.call('POST', '/v1/instances/stop', { ids, drainTimeoutMs });
  }

  async setWeights(weights: Record<string, number>): Promise<void> {
    await this.call('POST', '/v1/weights', { weights });
  }

  preview(releaseId: string, req: ProbeRequest): Promise<ProbeResponse> {
    return socketRequest(this.paths.socket, req.method, `/v1/preview/${encodeURIComponent(releaseId)}${req.path}`, undefined, 10_000);
  }

  publicRequest(req: ProbeRequest): Promise<ProbeResponse> {
    if (!this.url) throw new Error('publicRequest before connect');
    return httpRequest(`${this.url}${req.path}`, req.method);
  }

  publicUrl(): string | null {
    return this.url;
  }

  metrics(): Promise<MetricsSnapshot> {
    return this.call<MetricsSnapshot>('GET', '/v1/metrics');
  }

  async status(): Promise<TargetStatus> {
    const status = await this.call<TargetStatus>('GET', '/v1/status');
    this.url = status.url;
    return status;
  }

  async down(): Promise<void> {
    await this.call('POST', '/v1/shutdown');
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return callAgent<T>(this.paths.socket, method, path, body);
  }
}

function httpRequest(url: string, method: string): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: { 'user-agent': 'ccom-smoke' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
        }),
      );
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10s')));
    req.on('error', reject);
    req.end();
  });
}
