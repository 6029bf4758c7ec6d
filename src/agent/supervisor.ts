export { BootFailure } from './boot-wait.js';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { asUserError, messageOf, UserError } from '../errors.js';
import type { ReleaseSpec } from '../targets/types.js';
import { BootFailure, stoppedMeanwhile, waitHealthy } from './boot-wait.js';
import { probeHealth } from './health-probe.js';
import { checkInService, healthIntervalMs } from './health-watch.js';
import { Instance } from './instance.js';
import { InstanceLog } from './instance-log.js';
import { findInstancePort, portTakenOnBoot, PORT_RETRY_MARK } from './instance-port.js';
import { checkMemoryBeforeTraffic, memoryRestartDelayMs } from './memory-check.js';
import { adoptInstance, isOurInstance, pidAlive, spawnInstance, StartFailure, type ProcessHandle } from './process-handle.js';

export interface SupervisorOptions {
  logFile(release: string, instanceId: string): string;
  /** Called after any change that affects routing or persisted state. */
  onChange(): void;
  /** Waits until the router has no in-flight requests on these upstreams (bounded). */
  drain(upstreamIds: string[], timeoutMs: number): Promise<boolean>;
  baseEnv: NodeJS.ProcessEnv;
  log(message: string): void;
}

/** Failed health checks in a row before an instance in service is taken out of the pool. */
const FAILURES_BEFORE_UNHEALTHY = 3;
const MAX_BACKOFF_MS = 30_000;
const DEFAULT_DRAIN_MS = 30_000;
/** Boots of one instance whose port was taken before the app could listen on it. */
const PORT_ATTEMPTS = 3;

/** Starts, watches, restarts and stops instances. Routing is derived from its state by the agent. */
export class Supervisor {
  private readonly instances = new Map<string, Instance>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

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
      await Promise.all(started.map((instance, i) => this.waitBooted(instance, cancel, (next) => (started[i] = next))));
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
      const instance = new Instance(row.id, spec, row.port, adoptInstance(row.pid), this.openLog(spec.id, row.id));
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
    const instance = new Instance(row.id, spec, 0, adoptInstance(row.pid), this.openLog(spec.id, row.id));
    instance.inService = true;
    this.instances.set(row.id, instance);
    this.restart(instance, 'gone after agent restart');
  }

  close(): void {
    this.closed = true;
    for (const id of this.timers.keys()) this.clearTimer(id);
  }

  /**
   * Waits for a new instance to become healthy. One that crashed because its port was taken
   * in the moment before it listened (another program bound it) boots again on another port:
   * that is the machine's doing, not the release's.
   */
  private async waitBooted(first: Instance, cancel: { cancelled: boolean }, replaced: (next: Instance) => void): Promise<void> {
    let instance = first;
    for (let attempt = 1; ; attempt++) {
      try {
        return await waitHealthy(instance, cancel);
      } catch (err) {
        const retry = err instanceof BootFailure && attempt < PORT_ATTEMPTS && !cancel.cancelled && !stoppedMeanwhile(instance) && portTakenOnBoot(err.detail);
        if (!retry) throw err;
        this.opts.log(`instance ${instance.id}: port ${instance.port} was taken before the app could listen on it; starting it on another port`);
        await this.stopOne(instance, 0);
        if (cancel.cancelled) throw err;
        appendFileSync(instance.logFile, `${PORT_RETRY_MARK}\n`);
        instance = await this.launch(instance.spec, instance.id);
        replaced(instance);
        this.opts.onChange();
      }
    }
  }

  private async launch(spec: ReleaseSpec, id: string): Promise<Instance> {
    const port = await findInstancePort('127.0.0.1');
    const log = this.openLog(spec.id, id);
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
    // Recorded at once: an agent that dies now must not leave a process nobody knows of.
    this.opts.onChange();
    return instance;
  }

  private spawn(spec: ReleaseSpec, id: string, port: number, log: InstanceLog): ProcessHandle {
    return spawnInstance({ command: spec.start, cwd: spec.dir, env: this.instanceEnv(spec, id, port), output: log.writerFd });
  }

  private openLog(release: string, id: string): InstanceLog {
    return new InstanceLog(this.opts.logFile(release, id), this.opts.log);
  }

  /** Persists a change where failing to (a full disk) must not stop the work under way. */
  private changed(): void {
    try {
      this.opts.onChange();
    } catch (err) {
      this.opts.log(`could not save the agent state: ${messageOf(err)}`);
    }
  }

  private instanceEnv(spec: ReleaseSpec, id: string, port: number): NodeJS.ProcessEnv {
    return { ...this.opts.baseEnv, ...spec.env, PORT: String(port), CCOM_RELEASE: spec.id, CCOM_INSTANCE: id };
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
        if (action.kind === 'restart') this.restart(instance, action.why, action.memory);
        if (action.kind === 'changed') {
          if (action.log) this.opts.log(action.log);
          this.changed();
        }
      });
    }, intervalMs);
    timer.unref();
    this.timers.set(instance.id, timer);
  }

  /**
   * Replaces the process of an instance in service, retrying with exponential backoff. Never
   * throws: whatever goes wrong is logged, and the agent keeps serving the other instances.
   */
  private restart(instance: Instance, why: string, forMemory = false): void {
    // One restart at a time per instance: two would each spawn a process and orphan one.
    if (instance.restartInProgress) return;
    instance.restartInProgress = true;
    const firstDelayMs = forMemory ? memoryRestartDelayMs(instance) : 100;
    if (forMemory && firstDelayMs > 0) {
      this.opts.log(`instance ${instance.id} went over limits.memory ${instance.memoryStreak} times in a row; waiting ${firstDelayMs / 1000}s before starting it again (raise limits.memory if the app needs more)`);
    }
    this.restartLoop(instance, why, firstDelayMs)
      .catch((err: Error) => this.opts.log(`restart of ${instance.id} stopped: ${err.stack ?? err.message}`))
      .finally(() => (instance.restartInProgress = false));
  }

  private async restartLoop(instance: Instance, why: string, firstDelayMs: number): Promise<void> {
    this.clearTimer(instance.id);
    instance.state = 'restarting';
    this.changed();
    // A process that still answers (over its memory limit, failing health) finishes what it
    // has in flight before it is stopped; a crashed one has nothing left to drain.
    if (instance.handle.alive()) await this.opts.drain([instance.upstreamId], instance.spec.drainTimeoutMs ?? DEFAULT_DRAIN_MS);
    await instance.handle.stop(instance.spec.stopTimeoutMs);
    for (let attempt = 0; !this.closed && this.instances.has(instance.id); attempt++) {
      await sleep(attempt === 0 ? firstDelayMs : Math.min(100 * 2 ** attempt, MAX_BACKOFF_MS));
      if (this.closed || instance.state !== 'restarting') return;
      const port = await findInstancePort('127.0.0.1');
      // A stop may have come while the port was being found: then nothing must be spawned.
      if (this.closed || instance.state !== 'restarting') return;
      try {
        instance.handle = this.spawn(instance.spec, instance.id, port, instance.log);
      } catch (err) {
        if (err instanceof StartFailure && !existsSync(instance.spec.dir)) return this.markFailed(instance, err);
        this.opts.log(`restart of ${instance.id} could not start a process: ${messageOf(err)}; trying again`);
        continue;
      }
      instance.port = port;
      instance.restarts++;
      try {
        await waitHealthy(instance, { cancelled: false });
        this.opts.log(`instance ${instance.id} restarted after: ${why}`);
        this.putInService(instance);
        this.changed();
        return;
      } catch (err) {
        if (stoppedMeanwhile(instance)) return;
        this.opts.log(`restart of ${instance.id} failed: ${(err as Error).message}`);
        instance.state = 'restarting';
        await instance.handle.stop(instance.spec.stopTimeoutMs);
      }
    }
  }

  /**
   * The release directory is gone (pruned to free disk space): no retry can bring the instance
   * back, so it stays out of the pool, marked failed with the fix, and the others serve on.
   */
  private markFailed(instance: Instance, err: StartFailure): void {
    instance.state = 'failed';
    instance.problem = `cannot be started again: ${err.message}; fix: ${err.fix}`;
    this.opts.log(`instance ${instance.id} of release ${instance.spec.id} ${instance.problem}`);
    this.changed();
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
