import { readFileSync } from 'node:fs';
import { verifyBackupByRestore } from '../backup/verify.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { messageOf } from '../errors.js';
import { loadEnvFile } from '../gates/env.js';
import { manifestPathFor, type ManifestFile } from '../gates/manifest.js';
import { Store } from '../store/index.js';
import { createTarget } from '../targets/index.js';
import { wasDeployed } from '../app-state.js';
import type { TargetStatus } from '../targets/types.js';
import { listenCheck } from './listen-check.js';
import { tlsChecks } from './tls-checks.js';
import { historyCheck, liveReleaseCheck } from './state-checks.js';
import { fail, pass, warn, type Check } from './types.js';

/**
 * `ccom doctor`: the seed's infrastructure duties checked for real, without deploying —
 * capacity, the load balancer's table, monitoring, alerting, and backups proven by a restore.
 */
export async function runDoctor(appDir: string): Promise<Check[]> {
  const { config } = loadConfig(appDir);
  const deployed = wasDeployed(appDir);
  const store = deployed ? Store.open(appDir) : undefined;
  const live = store?.liveRelease();
  store?.close();
  const target = createTarget(appDir, config);
  let status: TargetStatus | undefined;
  if (live) {
    await target.attach(); // brings a killed agent back, like any command
    status = await target.status();
  }
  const capacity = await target.capacity({
    proxy: config.proxy,
    ...(config.tls && config.proxy.httpPort !== undefined ? { httpPort: config.proxy.httpPort } : {}),
    app: config.app,
    ...(config.domains ? { domains: config.domains } : {}),
    monitoringPort: config.monitoring.port,
    monitoringPortFromDefault: config.monitoring.portFromDefault,
    instances: config.instances,
    memoryPerInstance: config.limits.memory,
    releaseBytes: live ? releaseBytes(live.dir) : undefined,
  });
  return [
    ...capacity,
    historyCheck(appDir),
    ...(deployed ? [liveReleaseCheck(live)] : []),
    await target.routingCheck(live?.id ?? null),
    listenCheck(status?.instances ?? []),
    ...(await tlsChecks(config, status)),
    await monitoringCheck(status),
    await alertsCheck(config),
    await backupsCheck(appDir, config),
  ];
}

function releaseBytes(dir: string): number | undefined {
  try {
    const manifest = JSON.parse(readFileSync(manifestPathFor(dir), 'utf8')) as ManifestFile;
    return manifest.files.reduce((sum, f) => sum + f.size, 0);
  } catch {
    return undefined;
  }
}

async function monitoringCheck(status: TargetStatus | undefined): Promise<Check> {
  const name = 'monitoring';
  if (!status) return warn(name, 'not deployed: nothing is monitored yet', 'run `ccom deploy`');
  const url = status.monitoring?.url;
  if (!url) return fail(name, status.monitoring?.problem ?? 'the agent serves no metrics', 'set monitoring.port in ccom.yaml to a free port and deploy again');
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    if (res.ok && text.includes('ccom_requests_total')) return pass(name, `Prometheus metrics at ${url}`);
    return fail(name, `${url} answered HTTP ${res.status} without ccom's metrics`, 'check what listens on monitoring.port');
  } catch (err) {
    return fail(name, `${url} is not reachable: ${messageOf(err)}`, 'run `ccom status` to restart the agent');
  }
}

async function alertsCheck(config: Config): Promise<Check> {
  const name = 'alerts';
  const { webhook, format, timeoutMs } = config.alerts;
  if (!webhook) return warn(name, 'no alerts.webhook: nobody is told when a deploy fails or rolls back', 'set alerts.webhook in ccom.yaml');
  const body = format === 'slack' ? { text: `ccom doctor: alerts for ${config.app} reach this channel` } : { event: 'ping', app: config.app, at: new Date().toISOString() };
  try {
    const res = await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'ccom-alerts' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    if (res.ok) return pass(name, `${new URL(webhook).host} accepted a test event (HTTP ${res.status})`);
    return fail(name, `${new URL(webhook).host} rejected a test event with HTTP ${res.status}`, 'check alerts.webhook and alerts.format');
  } catch (err) {
    return fail(name, `alerts.webhook is not reachable: ${messageOf(err)}`, 'check the URL and that this machine can reach it');
  }
}

async function backupsCheck(appDir: string, config: Config): Promise<Check> {
  const name = 'backups';
  if (!config.backup) {
    return config.shared.length
      ? warn(name, `shared data (${config.shared.join(', ')}) has no backup configured`, 'add backup.run and backup.restore to ccom.yaml')
      : pass(name, 'no shared data and no backup configured');
  }
  let env: Record<string, string> = {};
  try {
    env = loadEnvFile(appDir, { ...config.env, required: [] }).vars;
  } catch {
    /* the env file is checked at deploy time */
  }
  try {
    return pass(name, await verifyBackupByRestore(appDir, config.backup, env));
  } catch (err) {
    return fail(name, `backup could not be proven by a restore: ${messageOf(err)}`, 'fix backup.run / backup.restore (restore must use paths relative to the app directory)');
  }
}
