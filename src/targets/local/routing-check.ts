import { fail, pass, warn, type Check } from '../../doctor/types.js';
import type { AgentStatus } from './wire.js';

/**
 * The load balancer's configuration, validated against reality: every upstream in the router's
 * table is a healthy instance of that release, every healthy instance of a release with traffic
 * is in the table, and the live release in history is the one with the traffic.
 */
export function checkRouting(status: AgentStatus | undefined, liveRelease: string | null): Check {
  const name = 'routing';
  if (!status) {
    return liveRelease
      ? fail(name, `release ${liveRelease} should be live but no agent is running`, 'run `ccom status` (it restarts the agent) or `ccom deploy`')
      : warn(name, 'not deployed yet: no routing table to check', 'run `ccom deploy`');
  }
  const problems: string[] = [];
  const table = status.table ?? [];
  const instances = new Map(status.instances.map((i) => [i.id, i]));
  for (const route of table) {
    for (const upstream of route.upstreams) {
      const instance = instances.get(upstream);
      if (!instance) problems.push(`${route.id} routes to ${upstream}, which is not running`);
      else if (!instance.healthy) problems.push(`${route.id} routes to ${upstream}, which is ${instance.state}`);
    }
    const healthy = status.instances.filter((i) => i.release === route.id && i.healthy).map((i) => i.id);
    const missing = healthy.filter((id) => !route.upstreams.includes(id));
    if (route.weight > 0 && missing.length) problems.push(`${route.id} has healthy instance(s) ${missing.join(', ')} missing from the table`);
    if (route.weight > 0 && route.upstreams.length === 0) problems.push(`${route.id} has ${route.weight}% of traffic but no healthy instance`);
  }
  const weighted = Object.entries(status.weights).filter(([, w]) => w > 0);
  if (liveRelease && !weighted.some(([id]) => id === liveRelease)) problems.push(`history says ${liveRelease} is live but it gets no traffic`);
  if (problems.length) return fail(name, problems.join('; '), 'run `ccom rollback` or `ccom deploy` to rebuild a consistent set; `ccom logs` shows why instances failed');
  const summary = weighted.map(([id, w]) => `${id} ${w}% on ${table.find((r) => r.id === id)?.upstreams.length ?? 0} instance(s)`).join(', ');
  return pass(name, summary || 'no traffic routed (nothing live)');
}
