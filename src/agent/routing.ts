import type { Router, ReleaseRoute } from '../proxy/router.js';
import type { Supervisor } from './supervisor.js';

/**
 * Traffic weights per release, and the router table derived from them and the healthy
 * instances. Every change rebuilds the whole table and swaps it in one assignment.
 */
export class Routing {
  private weights: Record<string, number> = {};
  private knownUpstreams = new Set<string>();
  /** Releases routed to instances failing health checks (see panicIfNoneHealthy). */
  private panicking = new Set<string>();

  constructor(
    private readonly router: Router,
    private readonly supervisor: Supervisor,
    private readonly persist: (weights: Record<string, number>) => void,
    private readonly log: (message: string) => void = () => undefined,
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
    /** Per release: instances that fail health checks but run, for panic routing. */
    const failingChecks = new Map<string, ReleaseRoute['upstreams']>();
    for (const instance of this.supervisor.list()) {
      let route = byRelease.get(instance.spec.id);
      if (!route) {
        route = { id: instance.spec.id, weight: this.weights[instance.spec.id] ?? 0, upstreams: [] };
        byRelease.set(instance.spec.id, route);
      }
      const upstream = { id: instance.upstreamId, host: '127.0.0.1', port: instance.port };
      if (instance.serving) route.upstreams.push(upstream);
      else if (instance.state === 'unhealthy' && instance.handle.alive()) failingChecks.set(instance.spec.id, [...(failingChecks.get(instance.spec.id) ?? []), upstream]);
    }
    this.panicIfNoneHealthy(byRelease, failingChecks);
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

  /**
   * Panic routing (Envoy's panic threshold at its floor): a release that takes traffic but has
   * no healthy instance sends it to its instances that fail health checks yet still run, rather
   * than answer every request 503. Health checks fail for reasons users do not see (a probe
   * timing out on a saturated machine, a health route that checks a dependency the page does
   * not need); a certain 503 is worse than an answer that may fail. The instances are still
   * restarted after `health.timeout` as before.
   */
  private panicIfNoneHealthy(byRelease: Map<string, ReleaseRoute>, failingChecks: Map<string, ReleaseRoute['upstreams']>): void {
    const panicking = new Set<string>();
    for (const route of byRelease.values()) {
      const fallback = failingChecks.get(route.id);
      if (route.weight <= 0 || route.upstreams.length > 0 || !fallback) continue;
      route.upstreams.push(...fallback);
      panicking.add(route.id);
    }
    for (const id of panicking) if (!this.panicking.has(id)) this.log(`no healthy instance of ${id}: its traffic goes to its ${failingChecks.get(id)?.length} instance(s) failing health checks (panic routing) rather than a 503 each`);
    for (const id of this.panicking) if (!panicking.has(id)) this.log(`${id} has a healthy instance again: panic routing ends`);
    this.panicking = panicking;
  }
}
