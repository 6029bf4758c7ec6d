import { createProxyServer } from '../proxy/server.js';
import { LATENCY_BOUNDS_MS, Router } from '../proxy/router.js';
import type { MetricsSnapshot } from '../analysis/metrics.js';
import { instanceLogFile, type LocalPaths } from '../targets/local/paths.js';
import type { ConnectOptions, InstanceInfo, ReleaseSpec, AgentStatus, WarmPlan, WarmReport, WatchHandoff, WatchReport } from '../targets/local/wire.js';
import { MonitoringServer } from './monitoring/server.js';
import { PublicListener } from './public-listener.js';
import type { HeldAddress } from './held-socket.js';
import { Routing } from './routing.js';
import { saveReleaseEnv } from './release-env.js';
import { redactedFailure, withSavedEnv } from './spec-env.js';
import type { AgentStateFile } from './state-file.js';
import { Supervisor } from './supervisor.js';
import { recordAbandoned, type AbandonedOutcome } from './abandoned-deploy.js';
import { TrafficLease, type Lease } from './traffic-lease.js';
import type { PostSwitchWatch } from './post-switch-watch.js';
import type { AgentAlertEvent } from '../alerts/webhook.js';
import { agentWatch } from './agent-watch.js';
import { findOrphanInstances, stopOrphanInstances } from './orphan-instances.js';
import { warmInstances } from './warm-instances.js';
import { releasesDir } from '../app-state.js';
import type { HttpsSite } from '../tls/https-site.js';
import type { HttpsOptions } from '../targets/local/wire.js';
import { LEAVE_GRACE_MS, PublicPortShare } from './public-share.js';
import { AgentFlags } from './flags-service.js';

/** The agent's state: supervisor, router, public listener, and their persistence (agent-state.json). */
export class AgentCore {
  readonly router = new Router();
  readonly supervisor: Supervisor;
  readonly routing: Routing;
  readonly listener: PublicListener;
  readonly monitoring: MonitoringServer;
  /** Held by a deploy while it moves traffic; restores the previous weights if its process dies. */
  readonly lease = new TrafficLease(
    (lease) => this.restoreAfterDeployerDied(lease),
    (lease) => this.state.update({ lease }),
  );
  /** The post-switch watch: judges a new release with the previous one warm, moves traffic back on a regression. */
  readonly watch: PostSwitchWatch;
  private options: ConnectOptions | undefined;
  /** The app's HTTPS (certificates, plain-HTTP port), once a deploy configured domains and tls. */
  private https: HttpsSite | null = null;
  /** This app's place on an HTTPS port shared with other apps by host name. */
  private readonly publicShare: PublicPortShare;
  /** Hands over to a new agent under a new guardian that holds the public socket now in use. */
  renewGuardian: (() => Promise<void>) | undefined;
  /** How many times the guardian started this agent again (0 for a first start). */
  restarts = 0;
  /** Feature flags: each release's flag file, overrides, OFREP for the instances (src/agent/flags-service.ts). */
  readonly flags: AgentFlags;

  constructor(
    readonly appDir: string,
    readonly paths: LocalPaths,
    private readonly state: AgentStateFile,
    readonly log: (message: string) => void,
    readonly exit: () => void,
    /** The public socket this agent's guardian holds (see held-socket.ts). */
    held?: HeldAddress,
  ) {
    this.supervisor = new Supervisor({
      logFile: (release, id) => instanceLogFile(paths, release, id),
      onChange: () => this.onChange(),
      drain: (ids, timeoutMs) => this.router.waitDrained(ids, timeoutMs),
      log,
    });
    this.routing = new Routing(this.router, this.supervisor, (weights) => state.update({ weights }), log);
    this.watch = agentWatch(this, state);
    this.flags = new AgentFlags({ appDir, stateDir: paths.stateDir, release: (id) => this.state.get().specs[id], liveRelease: () => heaviest(this.routing.getWeights()), log }, this.router);
    this.listener = new PublicListener(() => createProxyServer(this.router), held);
    this.publicShare = new PublicPortShare(this.listener, { appDir, stateDir: paths.stateDir }, log);
    this.monitoring = new MonitoringServer(async () => {
      // Loaded at the first scrape: an agent nobody scrapes keeps prom-client and SQLite out of memory.
      const [{ createRegistry }, { Store }] = await Promise.all([import('./monitoring/registry.js'), import('../store/index.js')]);
      return createRegistry(this, () => {
        const store = Store.open(appDir);
        try {
          return store.countDeploymentsByStatus();
        } finally {
          store.close();
        }
      });
    });
  }

  /**
   * After a restart: re-adopt instances, restore the weights, then (unless a handover brings
   * the listening socket along) bind the saved public port.
   */
  async recover(opts: { bind: boolean } = { bind: true }): Promise<void> {
    const { weights, instances } = this.state.get();
    await Promise.all(
      instances.map(async (row) => {
        const spec = this.loadSpec(row.release);
        if (spec) await this.supervisor.adopt(row, spec, (weights[row.release] ?? 0) > 0);
      }),
    );
    // Only when no other agent runs (not in a handover, whose previous agent may be starting some).
    if (opts.bind) await this.stopOrphans();
    this.routing.restore(weights);
    this.onChange();
    // A deploy was moving traffic when the previous agent died: keep watching its process.
    const lease = this.state.get().lease;
    if (lease) this.lease.hold(lease);
    const watch = this.state.get().watch;
    if (watch) this.watch.resume(watch);
    await this.flags.resume(Object.values(this.state.get().specs));
    const options = this.savedOptions();
    // Before an inherited socket accepts anything: its connections must meet TLS at once.
    if (options && !opts.bind) {
      await this.configureHttps(options.https, options.proxy, { busyPortLater: true, app: options.app }).catch((err: Error) => this.log(`could not serve https: ${err.message}`));
    }
    if (options && opts.bind) {
      await this.configure(options).catch((err) => this.log(`could not serve ${options.proxy.host}:${options.proxy.port}: ${(err as Error).message}`));
    }
  }

  /** Warm-up requests to the release's serving instances (see warm-instances.ts). */
  warm(release: string, plan: WarmPlan): Promise<WarmReport> {
    const ports = this.supervisor.list().filter((i) => i.spec.id === release && i.serving).map((i) => i.port);
    return warmInstances(ports, plan);
  }

  /** Instances a killed agent spawned but never recorded: nobody else would ever stop them. */
  private async stopOrphans(): Promise<void> {
    const known = new Set(this.supervisor.list().map((i) => i.handle.pid));
    const orphans = findOrphanInstances(releasesDir(this.appDir), known);
    if (orphans.length === 0) return;
    this.log(`stopping ${orphans.length} instance(s) a previous agent started but never recorded: ${orphans.map((o) => `${o.instance} (pid ${o.pgid})`).join(', ')}`);
    await stopOrphanInstances(orphans, 2000);
  }

  /** Started again by the guardian: say so in the log and to the webhook the last deploy named. */
  reportRestart(lastExit: string): void {
    const reason = `the agent exited with code ${lastExit} and its guardian started it again (restart ${this.restarts}); instances were re-adopted`;
    this.log(reason);
    this.alertAgent('restarted', reason);
  }

  /** Tells the webhook the last deploy named what happened to the agent between deploys. */
  private alertAgent(status: AgentAlertEvent['status'], reason: string): void {
    const alerts = this.savedOptions()?.alerts;
    if (!alerts?.webhook) return;
    const event: AgentAlertEvent = { event: 'agent', app: this.savedOptions()?.app ?? 'unknown', status, reason, url: this.listener.url(), at: new Date().toISOString() };
    import('../alerts/webhook.js')
      .then(({ sendAgentAlert }) => sendAgentAlert(alerts, event))
      .then((delivery) => {
        if (delivery && !delivery.delivered) this.log(`could not alert ${alerts.webhook}: ${delivery.error ?? 'unknown error'}`);
      })
      .catch((err: Error) => this.log(`could not alert: ${err.message}`));
  }

  /** What the last deploy configured (public port, monitoring), as saved in history. */
  savedOptions(): ConnectOptions | undefined {
    return this.state.get().options ?? undefined;
  }

  /** Binds the public port (keeping the one already bound for port 0), monitoring and business routes. */
  async configure(options: ConnectOptions): Promise<string> {
    // A fresh bind of an HTTPS port (a restarted agent) holds its connections until TLS is ready.
    if (options.https && this.listener.address() === null) this.listener.hold();
    let bound: { host: string; port: number };
    try {
      bound = await this.publicShare.bind(options);
      await this.configureHttps(options.https, bound, { busyPortLater: false, app: options.app });
    } finally {
      this.listener.release();
    }
    this.router.business.configure(options.monitoring.business);
    this.monitoring.setApp(options.app);
    await this.monitoring.listen(options.monitoring.port, options.monitoring.portFromDefault === true);
    if (this.monitoring.problem) this.log(this.monitoring.problem);
    this.options = { ...options, proxy: bound };
    this.state.update({ options: this.options });
    // Moved to another port: the guardian would keep the old one open with nobody accepting
    // (clients hang there) and a restart would refuse connections on the new one.
    if (this.listener.leftHeldSocket && this.renewGuardian) {
      this.log(`public port moved to ${bound.host}:${bound.port}: handing over to an agent whose guardian holds it`);
      // A failed handover leaves this agent serving the new port (the move succeeded); the next configure tries again.
      await this.renewGuardian().catch((err: Error) => this.log(`could not hand over (${err.message}): the guardian holds the old port until \`ccom down\``));
    }
    return this.url() as string;
  }

  /** The public URL: this agent's port, or the shared port another app's agent is bound to. */
  private url(): string | null {
    const shared = this.publicShare.port;
    return this.listener.url() ?? (shared !== undefined && this.https ? this.https.url(shared) : null);
  }

  /**
   * HTTPS on the public port, or plain HTTP again when the config has no tls. A certificate
   * that cannot be had throws (the deploy is blocked) only when there is none to serve.
   * `busyPortLater`: in a handover the old agent still holds the plain-HTTP port for a moment.
   */
  private async configureHttps(https: HttpsOptions | undefined, bound: { host: string; port: number }, opts: { busyPortLater: boolean; app: string }): Promise<void> {
    if (!https) {
      await this.publicShare.configure(null, bound, opts.app);
      await this.listener.useTls(null);
      this.https = null;
      return;
    }
    // Loaded by agents that serve HTTPS only: plain-HTTP apps keep TLS and ACME out of memory.
    const { HttpsSite } = await import('../tls/https-site.js');
    this.https ??= new HttpsSite({
      stateDir: this.paths.stateDir,
      appDir: this.appDir,
      router: this.router,
      log: this.log,
      warn: (reason) => this.alertAgent('certificate_expiring', reason),
    });
    await this.https.configure(https, bound.host, bound.port, opts);
    await this.listener.useTls(this.https);
    // Registered once TLS is ready: handed connections meet this app's certificate at once.
    await this.publicShare.configure(https, bound, opts.app);
  }

  /**
   * The spec's environment is saved with the release before anything starts: restarts, a
   * restarted agent and a reboot run the instances with exactly what this deploy computed.
   */
  async startInstances(given: ReleaseSpec, count: number): Promise<InstanceInfo[]> {
    const spec = await this.flags.prepareSpec(given);
    saveReleaseEnv(this.appDir, { release: spec.id, dir: spec.dir, env: spec.env, secretNames: spec.secretNames });
    const { env: _env, ...persisted } = spec;
    this.state.update({ specs: { ...this.state.get().specs, [spec.id]: persisted } });
    try {
      const started = await this.supervisor.start(spec, count);
      return started.map((i) => i.info());
    } catch (err) {
      // A crashed instance's last log lines go to the deploying user and into history.
      throw redactedFailure(err, spec);
    }
  }

  stopInstances(ids: string[], drainTimeoutMs: number): Promise<void> {
    return this.supervisor.stop(ids, drainTimeoutMs);
  }

  setWeights(weights: Record<string, number>): void {
    this.routing.setWeights(weights);
  }

  /**
   * The deploying process died holding the lease: the releases that served before serve again,
   * and the history and the webhook learn what happened (the dead process can tell neither).
   */
  private restoreAfterDeployerDied(lease: Lease): void {
    const healthy = new Set(this.supervisor.list().filter((i) => i.info().healthy).map((i) => i.spec.id));
    const missing = Object.entries(lease.fallback).filter(([id, weight]) => weight > 0 && !healthy.has(id)).map(([id]) => id);
    const died = `the deploying ccom process (pid ${lease.pid}) died before the deployment finished`;
    let outcome: AbandonedOutcome;
    if (missing.length > 0) {
      outcome = { status: 'failed', reason: `${died}; the previous weights cannot come back: ${missing.join(', ')} has no healthy instance, so traffic stays as it is` };
    } else {
      this.setWeights(lease.fallback);
      const weights = Object.entries(lease.fallback).map(([id, w]) => `${id} ${w}%`).join(', ');
      outcome = { status: 'rolled_back', reason: `${died}: traffic moved back to ${weights}` };
    }
    this.log(outcome.reason);
    recordAbandoned(this.appDir, lease, outcome).catch((err: Error) => this.log(`could not record the abandoned deployment: ${err.message}`));
  }

  /** The previous release's counters now are its last window: what it served while it had the traffic. */
  startWatch(handoff: WatchHandoff): WatchReport {
    this.watch.end('a new watch');
    const stable = { ...this.router.counters(handoff.previous), latency: this.router.latency(handoff.previous) };
    return this.watch.start(handoff, stable.requests > 0 ? stable : null);
  }

  status(): AgentStatus {
    return {
      url: this.url(),
      address: this.listener.address() ?? this.sharedAddress(),
      ...(this.https ? { tls: this.https.report() } : {}),
      monitoring: { url: this.monitoring.url(), problem: this.monitoring.problem },
      weights: this.routing.getWeights(),
      instances: this.supervisor.list().map((i) => i.info()),
      agent: { pid: process.pid, restarts: this.restarts },
      table: this.router.table().map((r) => ({ id: r.id, weight: r.weight, upstreams: r.upstreams.map((u) => instanceOfUpstream(u.id)) })),
      watch: this.watch.report(),
    };
  }

  /** The shared port another app's agent is bound to, which serves this app too. */
  private sharedAddress(): { host: string; port: number } | null {
    const port = this.publicShare.port;
    return port === undefined ? null : { host: this.options?.proxy.host ?? '127.0.0.1', port };
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
    this.watch.end('ccom down');
    this.routing.setWeights({});
    await this.supervisor.stopAll();
    // On a port other apps share, this agent hands their connections on until it exits: the next
    // app binds the port the moment it is free (closing it now would refuse their clients meanwhile).
    const handingPlain = (await this.https?.leaveSharedPort()) === true;
    const handing = this.publicShare.handsOn || handingPlain;
    await this.publicShare.leave();
    if (handing) await new Promise((r) => setTimeout(r, LEAVE_GRACE_MS));
    else await this.listener.close();
    await this.monitoring.close();
    await this.flags.close();
    // After `ccom down` a restarted agent must not grab the port again until the next deploy.
    this.state.update({ options: null });
  }

  private onChange(): void {
    this.routing.rebuild();
    const instances = this.supervisor.list().map((i) => ({ id: i.id, release: i.spec.id, pid: i.handle.pid, port: i.port }));
    // Specs are kept for releases that run or have traffic; older ones are started from history.
    const needed = new Set([...instances.map((i) => i.release), ...Object.keys(this.routing.getWeights())]);
    const specs = Object.fromEntries(Object.entries(this.state.get().specs).filter(([id]) => needed.has(id)));
    this.state.update({ instances, specs });
  }

  private loadSpec(release: string): ReleaseSpec | undefined {
    const spec = this.state.get().specs[release];
    return spec && withSavedEnv(this.appDir, spec, this.log);
  }
}

/** The release with the largest share of traffic (the stable one during a canary's first steps). */
function heaviest(weights: Record<string, number>): string | undefined {
  let best: string | undefined;
  for (const [id, weight] of Object.entries(weights)) if (best === undefined || weight > (weights[best] ?? 0)) best = id;
  return best;
}

/** Upstream ids are `<instance>:<port>` (a restart on a new port gets a fresh pool). */
function instanceOfUpstream(upstreamId: string): string {
  return upstreamId.slice(0, upstreamId.lastIndexOf(':'));
}
