import type { Router, ReleaseRoute } from '../proxy/router.js';
import type { Supervisor } from './supervisor.js';

/**
 * Traffic weights per release, and the router table derived from them and the healthy
 * instances. Every change rebuilds the whole table and swaps it in one assignment.
 */
export class Routing {
  private weights: Record<string, number> = {};
  private knownUpstreams = new Set<string>();

  constructor(
    private readonly router: Router,
    private readonly supervisor: Supervisor,
    private readonly persist: (weights: Record<string, number>) => void,
  ) {}

  getWeights(): Record<string, number> {
    return { ...this.weights };
  }

  /** Replaces the weights atomically (releases not named get no traffic) and persists them. */
  setWeights(weights: Record<string, number>): void {
    this.weights = Object.fromEntries(Object.entries(weights).filter(([, w]) => w > 0));
    this.persist(this.weights);
    this.rebuild();
  }

  /** Restores weights saved before an agent restart, without writing them again. */
  restore(weights: Record<string, number>): void {
    this.weights = { ...weights };
    this.rebuild();
  }

  rebuild(): void {
    const byRelease = new Map<string, ReleaseRoute>();
    for (const instance of this.supervisor.list()) {
      let route = byRelease.get(instance.spec.id);
      if (!route) {
        route = { id: instance.spec.id, weight: this.weights[instance.spec.id] ?? 0, upstreams: [] };
        byRelease.set(instance.spec.id, route);
      }
      if (instance.serving) route.upstreams.push({ id: instance.upstreamId, host: '127.0.0.1', port: instance.port });
    }
    const table = [...byRelease.values()];
    this.router.setTable(table);
    // Pools of upstreams that vanished (crashed, restarted on a new port) are closed; stopped
    // instances were drained before they left, so nothing in flight is cut.
    const current = new Set(table.flatMap((r) => r.upstreams.map((u) => u.id)));
    // A draining instance is out of the table but its pool must live until its requests finish.
    for (const instance of this.supervisor.list()) {
      const draining = instance.state === 'stopping' || (instance.state === 'restarting' && instance.handle.alive());
      if (draining) current.add(instance.upstreamId);
    }
    for (const id of this.knownUpstreams) if (!current.has(id)) void this.router.closeUpstream(id);
    this.knownUpstreams = current;
  }
}
