import type { ReleaseSpec, InstanceInfo } from '../targets/local/wire.js';
import type { InstanceLog } from './instance-log.js';
import type { ProcessHandle } from './process-handle.js';
import { procStats } from './proc-stats.js';

export type InstanceState = 'starting' | 'healthy' | 'unhealthy' | 'restarting' | 'stopping' | 'stopped' | 'failed';

/** One supervised process of a release, with the bookkeeping the supervisor and router need. */
export class Instance {
  state: InstanceState = 'starting';
  restarts = 0;
  /** Restarts caused by exceeding `limits.memory` (also counted in `restarts`). */
  memoryRestarts = 0;
  consecutiveFailures = 0;
  unhealthySince = 0;
  healthySince = 0;
  lastObserved = '';
  /** A restart (stop, then a new process) is under way; exits it causes are not crashes. */
  restartInProgress = false;
  /** Set when the process was started on purpose; crashes of an instance in service are restarted. */
  inService = false;
  /** Why a 'failed' instance cannot run, with the fix. */
  problem: string | undefined;
  /** Memory-limit restarts in a row without a calm period between them (they back off). */
  memoryStreak = 0;

  constructor(
    readonly id: string,
    readonly spec: ReleaseSpec,
    public port: number,
    public handle: ProcessHandle,
    readonly log: InstanceLog,
  ) {}

  get logFile(): string {
    return this.log.file;
  }

  /** Router key: a restarted instance gets a new port, so a fresh connection pool. */
  get upstreamId(): string {
    return `${this.id}:${this.port}`;
  }

  get serving(): boolean {
    return this.state === 'healthy';
  }

  info(): InstanceInfo {
    const stats = procStats(this.handle.pid);
    const appPid = stats?.appPid ?? this.handle.pid;
    return {
      id: this.id,
      release: this.spec.id,
      pid: appPid,
      ...(appPid !== this.handle.pid ? { groupPid: this.handle.pid } : {}),
      cpuSeconds: stats?.cpuSeconds,
      port: this.port,
      healthy: this.state === 'healthy',
      state: this.state,
      restarts: this.restarts,
      rssBytes: stats?.rssBytes,
      ...(this.problem ? { problem: this.problem } : {}),
    };
  }
}
