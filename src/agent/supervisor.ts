export { BootFailure } from './boot-wait.js';
import { randomBytes } from 'node:crypto';
import { asUserError, messageOf, UserError } from '../errors.js';
import type { ReleaseSpec } from '../targets/local/wire.js';
import { stoppedMeanwhile, waitBooted, type BootHost } from './boot-wait.js';
import { probeHealth } from './health-probe.js';
import { checkInService, healthIntervalMs } from './health-watch.js';
import { Instance } from './instance.js';
import { InstanceLog } from './instance-log.js';
import { findInstancePort } from './instance-port.js';
import { checkMemoryBeforeTraffic, sampleMemory } from './memory-check.js';
import { restartInstance, type RestartHost } from './restart.js';
import { adoptInstance, isOurInstance, pidAlive, spawnInstance, StartFailure, type ProcessHandle } from './process-handle.js';

export interface SupervisorOptions {
  logFile(release: string, instanceId: string): string;
  /** Called after any change that affects routing or persisted state. */
  onChange(): void;
  /** Waits until the router has no in-flight requests on these upstreams (bounded). */
  drain(upstreamIds: string[], timeoutMs: number): Promise<boolean>;
  log(message: string): void;
}

/** Failed health checks in a row before an instance in service is taken out of the pool. */
const FAILURES_BEFORE_UNHEALTHY = 3;

/** Starts, watches, restarts and stops instances. Routing is derived from its state by the agent. */
export class Supervisor {
  private readonly instances = new Map<string, Instance>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;
  private readonly restartHost: RestartHost = {
    keeps: (instance) => !this.closed && this.instances.has(instance.id),
    spawn: (instance, port) => this.spawn(instance.spec, instance.id, port, instance.log),
    putInService: (instance) => this.putInService(instance),
    changed: () => this.changed(),
    clearTimer: (id) => this.clearTimer(id),
    drain: (ids, timeoutMs) => this.opts.drain(ids, timeoutMs),
    log: (message) => this.opts.log(message),
  };

  private readonly bootHost: BootHost = {
    stop: (instance) => this.stopOne(instance, 0),
    launchAgain: (instance) => this.launch(instance.spec, instance.id),
    log: (message) => this.opts.log(message),
  };

  private readonly stopMemorySampler = sampleMemory(
    () => this.list().filter((i) => i.inService),
    (instance, why) => this.restart(instance, why, true),
  );

  constructor(private readonly opts: SupervisorOptions) {}

  list(): Instance[] {
    return [...this.instances.values()];
  }

  get(id: string): Instance | undefined {
    return this.instances.get(id);
  }

  /**
   * Starts `count` instances and resolves when all are healthy and within limits.memory. On
   * any failure, a full disk included, every instance it started is stopped before it throws:
   * a failed start leaves nothing running.
   */
  async start(spec: ReleaseSpec, count: number): Promise<Instance[]> {
    const started: Instance[] = [];
    const cancel = { cancelled: false };
    try {
      for (let n = 0; n < count; n++) started.push(await this.launch(spec, newInstanceId()));
      await Promise.all(started.map((instance, i) => waitBooted(instance, cancel, this.bootHost, (next) => (started[i] = next))));
      await checkMemoryBeforeTraffic(started, () => started.some(stoppedMeanwhile));
      for (const instance of started) this.putInService(instance);
      this.opts.onChange();
    } catch (err) {
      cancel.cancelled = true;
      await Promise.all(started.map((instance) => this.stopOne(instance, 0)));
      this.changed();
      throw asUserError(err);
    }
    return started;
  }

  /** Drains then stops instances; unknown ids are ignored (already gone). */
  async stop(ids: string[], drainTimeoutMs: number): Promise<void> {
    const targets = ids.map((id) => this.instances.get(id)).filter((i): i is Instance => i !== undefined);
    for (const instance of targets) {
      instance.state = 'stopping';
      this.clearTimer(instance.id);
    }
    // A stop must happen even when the state cannot be saved (a full disk): a stale entry
    // names a pid that is gone, which the next agent recognises and skips.
    this.changed();
    await this.opts.drain(targets.map((i) => i.upstreamId), drainTimeoutMs);
    await Promise.all(targets.map((instance) => this.stopOne(instance, instance.spec.stopTimeoutMs)));
    this.changed();
  }

  async stopAll(): Promise<void> {
    await this.stop([...this.instances.keys()], 0);
  }

  /** Re-adopts an instance a previous agent started; one that is gone is started again. */
  async adopt(row: { id: string; pid: number; port: number }, spec: ReleaseSpec, restartIfGone: boolean): Promise<void> {
    if (pidAlive(row.pid) && isOurInstance(row.pid, row.id)) {
      // The FIFO holds whatever the instance wrote while no agent read it.
      const instance = new Instance(row.id, spec, row.port, adoptInstance(row.pid), this.openLog(spec.id, row.id, spec.logMaxBytes));
      this.instances.set(row.id, instance);
      const probe = await probeHealth(row.port, spec.health.path, 2000);
      instance.state = probe.ok ? 'healthy' : 'unhealthy';
      instance.unhealthySince = Date.now();
      this.putInService(instance);
      this.opts.log(`adopted instance ${row.id} (pid ${row.pid}, port ${row.port}, ${probe.observed})`);
      return;
    }
    if (!restartIfGone) return;
    this.opts.log(`instance ${row.id} of ${spec.id} was gone after the agent restarted; starting it again`);
    const instance = new Instance(row.id, spec, 0, adoptInstance(row.pid), this.openLog(spec.id, row.id, spec.logMaxBytes));
    instance.inService = true;
    this.instances.set(row.id, instance);
    this.restart(instance, 'gone after agent restart');
  }

  close(): void {
    this.closed = true;
    this.stopMemorySampler();
    for (const id of this.timers.keys()) this.clearTimer(id);
  }

  private async launch(spec: ReleaseSpec, id: string): Promise<Instance> {
    const port = await findInstancePort('127.0.0.1');
    const log = this.openLog(spec.id, id, spec.logMaxBytes);
    let handle: ProcessHandle;
    try {
      handle = this.spawn(spec, id, port, log);
    } catch (err) {
      log.close();
      if (err instanceof StartFailure) throw new UserError(`instance ${id} of release ${spec.id} could not start: ${err.message}`, { fix: err.fix });
      throw err;
    }
    const instance = new Instance(id, spec, port, handle, log);
    this.instances.set(id, instance);
    try {
      // Recorded at once: an agent that dies now must not leave a process nobody knows of.
      this.opts.onChange();
    } catch (err) {
      // Not recorded (a full disk): not started either, or nobody would stop it.
      await this.stopOne(instance, 0);
      throw err;
    }
    return instance;
  }

  private spawn(spec: ReleaseSpec, id: string, port: number, log: InstanceLog): ProcessHandle {
    return spawnInstance({ command: spec.start, cwd: spec.dir, env: this.instanceEnv(spec, id, port), output: log.writerFd });
  }

  private openLog(release: string, id: string, maxBytes: number | undefined): InstanceLog {
    return new InstanceLog(this.opts.logFile(release, id), this.opts.log, maxBytes);
  }

  /** Persists a change where failing to (a full disk) must not stop the work under way. */
  private changed(): void {
    try {
      this.opts.onChange();
    } catch (err) {
      this.opts.log(`could not save the agent state: ${messageOf(err)}`);
    }
  }

  /** The release's own environment and nothing of the agent's: the deploy that shipped it decided it. */
  private instanceEnv(spec: ReleaseSpec, id: string, port: number): NodeJS.ProcessEnv {
    return { ...spec.env, PORT: String(port), CCOM_RELEASE: spec.id, CCOM_INSTANCE: id };
  }

  private putInService(instance: Instance): void {
    instance.inService = true;
    void instance.handle.exited.then((how) => this.onExit(instance, instance.handle.pid, how));
    this.scheduleHealth(instance);
  }

  private onExit(instance: Instance, pid: number, how: string): void {
    // Ignore exits of a handle that was already replaced, and stops we asked for.
    if (this.closed || instance.handle.pid !== pid || !instance.inService) return;
    // Exits we cause ourselves (stop, or the stop inside a restart) are not crashes.
    if (instance.state === 'stopping' || instance.state === 'stopped' || instance.restartInProgress) return;
    this.opts.log(`instance ${instance.id} (pid ${pid}) ${how}; restarting`);
    this.restart(instance, how);
  }

  private scheduleHealth(instance: Instance): void {
    this.clearTimer(instance.id);
    const intervalMs = healthIntervalMs(instance.spec.health.intervalMs);
    const timer = setInterval(() => {
      void checkInService(instance, FAILURES_BEFORE_UNHEALTHY).then((action) => {
        if (action.kind === 'restart') this.restart(instance, action.why);
        if (action.kind === 'changed') {
          if (action.log) this.opts.log(action.log);
          this.changed();
        }
      });
    }, intervalMs);
    timer.unref();
    this.timers.set(instance.id, timer);
  }

  /** Replaces the process of an instance in service (see restart.ts); never throws. */
  private restart(instance: Instance, why: string, forMemory = false): void {
    restartInstance(this.restartHost, instance, why, forMemory);
  }

  private async stopOne(instance: Instance, graceMs: number): Promise<void> {
    this.clearTimer(instance.id);
    instance.state = 'stopping';
    await instance.handle.stop(graceMs);
    instance.log.close();
    instance.state = 'stopped';
    this.instances.delete(instance.id);
  }

  private clearTimer(id: string): void {
    const timer = this.timers.get(id);
    if (timer) clearInterval(timer);
    this.timers.delete(id);
  }
}

function newInstanceId(): string {
  return `i-${randomBytes(3).toString('hex')}`;
}
