import { Counter, type Registry } from 'prom-client';
import type { AgentFlags } from './flags-service.js';

/**
 * `ccom_flag_evaluations_total{flag,variant}`: OFREP evaluations served to the app's instances
 * (failures as `error:<code>`), read from the agent's counts at scrape time.
 */
export function registerFlagMetrics(registry: Registry, flags: AgentFlags): void {
  new Counter({
    name: 'ccom_flag_evaluations_total',
    help: 'Feature flag evaluations served over OFREP, per flag and variant',
    labelNames: ['flag', 'variant'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of flags.evaluations.values()) this.inc({ flag: e.flag, variant: e.variant }, e.count);
    },
  });
}
