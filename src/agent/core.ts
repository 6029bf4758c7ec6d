import { loadEnvFile } from '../gates/env.js';
import { createProxyServer } from '../proxy/server.js';
import { LATENCY_BOUNDS_MS, Router } from '../proxy/router.js';
import type { MetricsSnapshot } from '../analysis/metrics.js';
import type { Store } from '../store/index.js';
import { instanceLogFile, type LocalPaths } from '../targets/local/paths.js';
import type { ConnectOptions, InstanceInfo, ReleaseSpec, TargetStatus } from '../targets/types.js';
import { MonitoringServer } from './monitoring/server.js';
import { PublicListener } from './public-listener.js';
import { Routing } from './routing.js';
import { Supervisor } from './supervisor.js';

const SPEC_KEY = (release: string) => `spec:${release}`;
const OPTIONS_KEY = 'connect-options';

/** The agent's state: supervisor, router, public listener, and their persistence in SQLite. */
export class AgentCore {
  readonly router = new Router();
  readonly supervisor: Supervisor;
  readonly routing: Routing;
  readonly listener: PublicListener;
  readonly monitoring: MonitoringServer;
  private options: ConnectOptions | undefined;

  constructor(
    readonly appDir: string,
    private readonly paths: LocalPaths,
    private readonly store: Store,
    readonly log: (message: string) => void,
    readonly exit: () => void,
  ) {
    this.supervisor = new Supervisor({
      logFile: (release, id) => instanceLogFile(paths, release, id),
      onChange: () => this.onChange(),
      drain: (ids, timeoutMs) => this.router.waitDrained(ids, timeoutMs),
      baseEnv: withoutCcomVars(process.env),
      log,
    });
    this.routing = new Routing(this.router, this.supervisor, (weights) => store.saveRoutes(weights));
    this.listener = new PublicListener(() => createProxyServer(this.router));
    this.monitoring = new MonitoringServer(async () => {
      const { createRegistry } = await import('./monitoring/registry.js');
      return createRegistry(this, () => store.countDeploymentsByStatus());
    });
  }

  /**
   * After a restart: re-adopt instances, restore the weights, then (unless a handover brings
   * the listening socket along) bind the saved public port.
   */
  async recover(opts: { bind: boolean } = { bind: true }): Promise<void> {
    const weights = this.store.loadRoutes();
    const rows = this.store.listInstances();
    await Promise.all(
      rows.map(async (row) => {
        const spec = this.loadSpec(row.release);
        if (!spec) return this.store.removeInstance(row.id);
        await this.supervisor.adopt(row, spec, (weights[row.release] ?? 0) > 0);
      }),
    );
    this.routing.restore(weights);
    this.onChange();
    const options = this.savedOptions();
    if (options && opts.bind) {
      await this.configure(options).catch((err) => this.log(`could not serve ${options.proxy.host}:${options.proxy.port}: ${(err as Error).message}`));
    }
  }

  /** What the last deploy configured (public port, monitoring), as saved in history. */
  savedOptions(): ConnectOptions | undefined {
    const saved = this.store.getSetting(OPTIONS_KEY);
    return saved ? (JSON.parse(saved) as ConnectOptions) : undefined;
  }

  /** Binds the public port (keeping the one already bound for port 0), monitoring and business routes. */
  async configure(options: ConnectOptions): Promise<string> {
    const bound = await this.listener.listen(options.proxy.host, options.proxy.port);
    this.router.business.configure(options.monitoring.business);
    this.monitoring.setApp(options.app);
    await this.monitoring.listen(options.monitoring.port);
    if (this.monitoring.problem) this.log(this.monitoring.problem);
    this.options = { ...options, proxy: bound };
    this.store.setSetting(OPTIONS_KEY, JSON.stringify(this.options));
    return this.listener.url() as string;
  }

  async startInstances(spec: ReleaseSpec, count: number): Promise<InstanceInfo[]> {
    const { env: _env, ...persisted } = spec;
    this.store.setSetting(SPEC_KEY(spec.id), JSON.stringify(persisted));
    const started = await this.supervisor.start(spec, count);
    return started.map((i) => i.info());
  }

  stopInstances(ids: string[], drainTimeoutMs: number): Promise<void> {
    return this.supervisor.stop(ids, drainTimeoutMs);
  }

  setWeights(weights: Record<string, number>): void {
    this.routing.setWeights(weights);
  }

  status(): TargetStatus {
    return {
      url: this.listener.url(),
      monitoring: { url: this.monitoring.url(), problem: this.monitoring.problem },
      weights: this.routing.getWeights(),
      instances: this.supervisor.list().map((i) => i.info()),
      table: this.router.table().map((r) => ({ id: r.id, weight: r.weight, upstreams: r.upstreams.map((u) => instanceOfUpstream(u.id)) })),
    };
  }

  /** Counters and latency histograms of every release in the routing table. */
  metrics(): MetricsSnapshot {
    const releases: MetricsSnapshot['releases'] = {};
    for (const route of this.router.table()) {
      releases[route.id] = { ...this.router.counters(route.id), latency: this.router.latency(route.id) };
    }
    return { at: Date.now(), boundsMs: [...LATENCY_BOUNDS_MS], releases };
  }

  async stopEverything(): Promise<void> {
    this.routing.setWeights({});
    await this.supervisor.stopAll();
    await this.listener.close();
    await this.monitoring.close();
    // After `ccom down` a restarted agent must not grab the port again until the next deploy.
    this.store.setSetting(OPTIONS_KEY, '');
  }

  private onChange(): void {
    this.routing.rebuild();
    const live = new Set<string>();
    for (const instance of this.supervisor.list()) {
      live.add(instance.id);
      this.store.upsertInstance({
        id: instance.id,
        release: instance.spec.id,
        pid: instance.handle.pid,
        port: instance.port,
        host: '127.0.0.1',
        startedAt: new Date().toISOString(),
        state: instance.state === 'healthy' ? 'healthy' : instance.state === 'stopping' ? 'stopping' : instance.state === 'starting' ? 'starting' : 'unhealthy',
      });
    }
    for (const row of this.store.listInstances()) if (!live.has(row.id)) this.store.removeInstance(row.id);
  }

  private loadSpec(release: string): ReleaseSpec | undefined {
    const text = this.store.getSetting(SPEC_KEY(release));
    if (!text) return undefined;
    const spec = JSON.parse(text) as Omit<ReleaseSpec, 'env'>;
    let env: Record<string, string> = {};
    if (spec.envFile) {
      try {
        env = loadEnvFile(this.appDir, { file: spec.envFile, required: [] }).vars;
      } catch (err) {
        this.log(`could not reload ${spec.envFile} for ${release}: ${(err as Error).message}`);
      }
    }
    return { ...spec, env };
  }
}

function withoutCcomVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('CCOM_')));
}

/** Upstream ids are `<instance>:<port>` (a restart on a new port gets a fresh pool). */
function instanceOfUpstream(upstreamId: string): string {
  return upstreamId.slice(0, upstreamId.lastIndexOf(':'));
}
