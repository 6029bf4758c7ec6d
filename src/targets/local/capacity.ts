import { cpus, freemem, loadavg } from 'node:os';
import { fail, pass, warn, type CapacityNeeds, type Check } from '../../doctor/types.js';
import { freeBytes } from '../../gates/disk.js';
import { describePortOwner, isPortFree, sharedPortStatus } from '../../gates/port.js';

/**
 * Room a deploy needs besides the release: history rows, agent state, the first log lines.
 * Small on purpose: a fixed 100 MiB floor blocked a 5 KB release on a small disk.
 */
const DISK_MARGIN = 8 * 1024 * 1024;
const mb = (n: number) => `${Math.round(n / 1e6)} MB`;

/**
 * This machine's capacity for the next release: disk, memory, CPU load and the ports (free,
 * or already served by this app's agent, whose URLs are passed in).
 */
export async function capacityChecks(needs: CapacityNeeds, stateDir: string, ours: { url: string | null; address?: { host: string; port: number } | null; monitoringUrl: string | null }): Promise<Check[]> {
  // An HTTPS URL names the domain, not the port: the address says which port the agent holds.
  const servesProxyPort = ours.address ? ours.address.host === needs.proxy.host && ours.address.port === needs.proxy.port : ours.url === `http://${needs.proxy.host}:${needs.proxy.port}`;
  return [
    await diskCheck(stateDir, needs.releaseBytes ?? 0),
    memoryCheck(needs),
    cpuCheck(),
    await portCheck('proxy-port', needs.proxy.host, needs.proxy.port, servesProxyPort, 'proxy.port', needs),
    // The agent that serves this app's HTTPS port holds its plain-HTTP port too.
    ...(needs.httpPort !== undefined ? [await portCheck('http-port', needs.proxy.host, needs.httpPort, servesProxyPort, 'proxy.httpPort', needs)] : []),
    await monitoringPortCheck(needs, ours.monitoringUrl),
  ];
}

/** Like portCheck, but a default port that is taken is no problem: the agent takes the next free one. */
async function monitoringPortCheck(needs: CapacityNeeds, oursUrl: string | null): Promise<Check> {
  const port = needs.monitoringPort;
  const check = await portCheck('monitoring-port', '127.0.0.1', port, oursUrl === `http://127.0.0.1:${port}/metrics`, 'monitoring.port');
  if (check.status === 'pass' || !needs.monitoringPortFromDefault) return check;
  if (oursUrl !== null) return pass('monitoring-port', `port ${port} is taken; this app's agent serves metrics at ${oursUrl}`);
  return pass('monitoring-port', `${check.message}; metrics will be served on the next free port (set monitoring.port to choose one)`);
}

async function diskCheck(dir: string, releaseBytes: number): Promise<Check> {
  const free = await freeBytes(dir);
  // Twice the release: its copy, and headroom for the logs and data it writes once it runs.
  const needed = DISK_MARGIN + 2 * releaseBytes;
  if (free < needed) {
    return fail('disk', `${mb(free)} free where releases are kept (${dir}); a release needs about ${mb(needed)}`, `free disk space (old releases live in ${dir}/releases/, backups in ${dir}/backups/), or set CCOM_HOME to a bigger disk`);
  }
  return pass('disk', `${mb(free)} free, a release needs about ${mb(needed)}`);
}

function memoryCheck(needs: CapacityNeeds): Check {
  const free = freemem();
  if (!needs.memoryPerInstance) return pass('memory', `${mb(free)} available (set limits.memory to check what a release needs)`);
  const needed = needs.instances * needs.memoryPerInstance;
  const what = `${needs.instances} instance(s) × ${mb(needs.memoryPerInstance)}`;
  if (needed > free) return fail('memory', `the new release needs about ${mb(needed)} (${what}) but only ${mb(free)} is available`, 'free memory, lower instances, or lower limits.memory if the app needs less');
  if (needed * 2 > free) return warn('memory', `${mb(free)} available for ${mb(needed)} needed (${what}): little headroom`, 'free memory or lower instances');
  return pass('memory', `${mb(free)} available, ${mb(needed)} needed (${what})`);
}

function cpuCheck(): Check {
  const cores = cpus().length;
  const load = loadavg()[0] ?? 0;
  const perCore = load / cores;
  const message = `load ${load.toFixed(2)} on ${cores} core(s)`;
  return perCore > 1.5 ? warn('cpu-load', `${message}: the machine is busy, deploys and health checks may be slow`, 'find what keeps the CPU busy (top) before deploying') : pass('cpu-load', message);
}

async function portCheck(name: string, host: string, port: number, ours: boolean, key: string, share?: CapacityNeeds): Promise<Check> {
  if (port === 0) return pass(name, `${key} is 0: a free port is picked`);
  if (ours) return pass(name, `port ${port} is served by this app's agent`);
  if (await isPortFree(host, port)) return pass(name, `port ${port} on ${host} is free`);
  const shared = share?.app ? sharedPortStatus(port, share.app, share.domains) : undefined;
  if (shared && 'problem' in shared) return fail(name, shared.problem.message, shared.problem.fix ?? '');
  if (shared) return pass(name, `port ${port} on ${host} is shared with ${shared.with} by host name`);
  const owner = describePortOwner(port);
  return fail(name, `port ${port} on ${host} is in use${owner ? ` by ${owner}` : ' by another program'}`, `stop that program, or set ${key} in ccom.yaml to a free port (0 picks one)`);
}
