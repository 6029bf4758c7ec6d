import { processRunning } from '../gates/process-group.js';
import type { AgentLease } from '../targets/local/wire.js';

/** How often the agent checks that the deploying process is still alive. */
const CHECK_MS = 250;

/** The deploying process's pid, the weights to restore, and whom to tell. */
export type Lease = AgentLease;

/**
 * A dead man's switch for deployments: while a deploy moves traffic (a canary at 10%, a
 * blue-green switch not yet verified), its process holds a lease. Should that process die
 * without finishing (SIGKILL, the OOM killer, a lost SSH session), nobody would judge the new
 * release or roll it back; the agent sees the pid gone and restores the weights that served
 * before, so the previous release keeps serving.
 */
export class TrafficLease {
  private lease: Lease | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly onHolderDied: (lease: Lease) => void,
    /** Keeps the lease on disk, so an agent started again after a crash still watches. */
    private readonly persist: (lease: Lease | null) => void,
  ) {}

  hold(lease: Lease): void {
    this.lease = { ...lease, fallback: { ...lease.fallback } };
    this.persist(this.lease);
    this.timer ??= setInterval(() => this.check(), CHECK_MS).unref();
  }

  release(): void {
    if (this.lease !== null) this.persist(null);
    this.lease = null;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const lease = this.lease;
    if (lease === null || processRunning(lease.pid)) return;
    this.release();
    this.onHolderDied(lease);
  }
}
