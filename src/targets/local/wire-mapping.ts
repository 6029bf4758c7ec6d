import type * as Contract from '../types.js';
import type * as Wire from './wire.js';

/*
 * The one place the Target contract meets the local agent's wire protocol. Shapes that are the
 * same today pass through functions typed on both sides, so a contract change that the wire does
 * not follow fails to compile here instead of silently changing what the agent stores.
 */

export const specOnWire = (spec: Contract.ReleaseSpec): Wire.ReleaseSpec => spec;
export const optionsOnWire = (options: Contract.ConnectOptions): Wire.ConnectOptions => options;
export const handoffOnWire = (handoff: Contract.WatchHandoff): Wire.WatchHandoff => handoff;
export const watchOffWire = (report: Wire.WatchReport): Contract.WatchReport => report;
export const instancesOffWire = (instances: Wire.InstanceInfo[]): Contract.InstanceInfo[] => instances;

/** The local lease is held by this process: the agent watches its pid (a deploy killed with -9 stops being alive). */
export function leaseOnWire(guard: Contract.TrafficGuard): Wire.AgentLease {
  return { pid: process.pid, ...guard };
}

/** The agent's status without its local details: the routing table stays with the local routing check. */
export function statusOffWire(status: Wire.AgentStatus): Contract.TargetStatus {
  const { agent, table: _table, instances, watch, ...rest } = status;
  return {
    ...rest,
    instances: instancesOffWire(instances),
    ...(watch !== undefined ? { watch: watch && watchOffWire(watch) } : {}),
    ...(agent ? { supervisor: { id: `agent pid ${agent.pid}`, pid: agent.pid, restarts: agent.restarts } } : {}),
  };
}
