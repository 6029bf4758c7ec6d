import type { BusinessCounts, BusinessRoute } from './types.js';

type OnStatus = (release: string, status: number) => void;

/**
 * Outcome counters for the routes the config names (e.g. POST /checkout): the share that
 * succeeds, per release, is a business metric the analysis and Prometheus can read. Requests on
 * other routes cost one Map lookup, and none when no route is configured.
 */
export class BusinessMetrics {
  private routes = new Map<string, { name: string; hook: OnStatus }>();
  private readonly counts = new Map<string, Map<string, BusinessCounts>>();

  configure(routes: BusinessRoute[]): void {
    const next = new Map<string, { name: string; hook: OnStatus }>();
    for (const route of routes) {
      const perRelease = this.counts.get(route.name) ?? new Map<string, BusinessCounts>();
      this.counts.set(route.name, perRelease);
      const hook: OnStatus = (release, status) => {
        let c = perRelease.get(release);
        if (!c) perRelease.set(release, (c = { ok: 0, clientError: 0, serverError: 0 }));
        if (status >= 500) c.serverError++;
        else if (status >= 400) c.clientError++;
        else c.ok++;
      };
      next.set(`${route.method} ${route.path}`, { name: route.name, hook });
    }
    this.routes = next;
  }

  /** The counter hook for this request, if it is on a business route. */
  hook(method: string, target: string): OnStatus | undefined {
    if (this.routes.size === 0) return undefined;
    const q = target.indexOf('?');
    return this.routes.get(`${method} ${q === -1 ? target : target.slice(0, q)}`)?.hook;
  }

  /** name → release → counts, for the metrics endpoint. */
  snapshot(): Record<string, Record<string, BusinessCounts>> {
    const out: Record<string, Record<string, BusinessCounts>> = {};
    for (const [name, perRelease] of this.counts) out[name] = Object.fromEntries([...perRelease].map(([r, c]) => [r, { ...c }]));
    return out;
  }
}
