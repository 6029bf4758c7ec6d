import { Counter, Gauge, Registry } from 'prom-client';
import type { AgentCore } from '../core.js';
import { procStats, type ProcStats } from '../proc-stats.js';
import { latencyHistogramMetric } from './latency-metric.js';
import { registerFlagMetrics } from '../flags-metrics.js';

/**
 * The agent's Prometheus metrics. Values are read from the router, the supervisor and
 * history when scraped, so nothing on the request path touches prom-client.
 */
export function createRegistry(core: AgentCore, deploymentsByStatus: () => Record<string, number>): Registry {
  const registry = new Registry();

  new Counter({
    name: 'ccom_requests_total',
    help: 'Public requests answered per release, by status class',
    labelNames: ['release', 'class'],
    registers: [registry],
    collect() {
      this.reset();
      for (const route of core.router.table()) {
        const c = core.router.counters(route.id);
        const classes = { '2xx': c.status2xx, '3xx': c.status3xx, '4xx': c.status4xx, '5xx': c.status5xx };
        for (const [cls, n] of Object.entries(classes)) this.inc({ release: route.id, class: cls }, n);
      }
    },
  });
  new Counter({
    name: 'ccom_connection_errors_total',
    help: 'Attempts to reach an instance that failed at the transport level (retried when idempotent)',
    labelNames: ['release'],
    registers: [registry],
    collect() {
      this.reset();
      for (const route of core.router.table()) this.inc({ release: route.id }, core.router.counters(route.id).connectionErrors);
    },
  });
  new Gauge({
    name: 'ccom_release_weight',
    help: 'Share of public traffic per release (percent)',
    labelNames: ['release'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [release, weight] of Object.entries(core.routing.getWeights())) this.set({ release }, weight);
    },
  });
  new Gauge({
    name: 'ccom_agent_restarts',
    help: 'Times the guardian started the agent again after it died (since the app was last started)',
    registers: [registry],
    collect() {
      this.set(core.restarts);
    },
  });
  new Counter({
    name: 'ccom_watch_outcomes_total',
    help: 'Post-switch watches that ended, by outcome (rolled_back: a regression moved traffic back)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(core.watch.outcomes)) this.inc({ outcome }, n);
    },
  });
  registry.registerMetric(latencyHistogramMetric(core.router));
  instanceMetrics(core, registry);
  new Counter({
    name: 'ccom_deployments_total',
    help: 'Deployments and rollbacks recorded in history, by outcome',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, n] of Object.entries(deploymentsByStatus())) this.inc({ status }, n);
    },
  });
  new Counter({
    name: 'ccom_business_requests_total',
    help: 'Requests on the business routes named in monitoring.business, by outcome',
    labelNames: ['name', 'release', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, perRelease] of Object.entries(core.router.business.snapshot())) {
        for (const [release, c] of Object.entries(perRelease)) {
          this.inc({ name, release, outcome: 'ok' }, c.ok);
          this.inc({ name, release, outcome: 'client_error' }, c.clientError);
          this.inc({ name, release, outcome: 'server_error' }, c.serverError);
        }
      }
    },
  });
  new Gauge({
    name: 'ccom_business_success_ratio',
    help: 'Share of requests on a business route that succeeded (2xx/3xx), per release',
    labelNames: ['name', 'release'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, perRelease] of Object.entries(core.router.business.snapshot())) {
        for (const [release, c] of Object.entries(perRelease)) {
          const total = c.ok + c.clientError + c.serverError;
          if (total > 0) this.set({ name, release }, c.ok / total);
        }
      }
    },
  });
  registerFlagMetrics(registry, core.flags);
  return registry;
}

function instanceMetrics(core: AgentCore, registry: Registry): void {
  const labels = ['release', 'instance'] as const;
  new Counter({
    name: 'ccom_instance_restarts_total',
    help: 'Restarts of an instance after a crash, failed health or memory limit',
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const i of core.supervisor.list()) this.inc({ release: i.spec.id, instance: i.id }, i.restarts);
    },
  });
  new Counter({
    name: 'ccom_instance_memory_restarts_total',
    help: 'Restarts of an instance because it exceeded limits.memory',
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const i of core.supervisor.list()) this.inc({ release: i.spec.id, instance: i.id }, i.memoryRestarts);
    },
  });
  new Gauge({
    name: 'ccom_instance_healthy',
    help: '1 when the instance passes its health check and takes traffic',
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const i of core.supervisor.list()) this.set({ release: i.spec.id, instance: i.id }, i.serving ? 1 : 0);
    },
  });
  new Counter({
    name: 'ccom_instance_cpu_seconds_total',
    help: 'CPU time used by the instance process',
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      forEachInstanceStats(core, (labels, stats) => this.inc(labels, stats.cpuSeconds));
    },
  });
  new Gauge({
    name: 'ccom_instance_memory_bytes',
    help: 'Resident memory of the instance process',
    labelNames: labels,
    registers: [registry],
    collect() {
      this.reset();
      forEachInstanceStats(core, (labels, stats) => this.set(labels, stats.rssBytes));
    },
  });
}

/** CPU and memory of every running instance, with its labels (gone processes are skipped). */
function forEachInstanceStats(core: AgentCore, fn: (labels: { release: string; instance: string }, stats: ProcStats) => void): void {
  for (const i of core.supervisor.list()) {
    const stats = procStats(i.handle.pid);
    if (stats) fn({ release: i.spec.id, instance: i.id }, stats);
  }
}
