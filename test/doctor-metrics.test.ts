import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { get, runCcom } from './helpers/ccom.js';
import { occupyPort } from './helpers/failure-tools.js';
import { closedPort, deployJson, parsePrometheus, series, startWebhook, writeOpsConfig, writeOpsServer, type Webhook } from './helpers/ops-tools.js';

const BACKUP = `shared: [data]
backup:
  run: cp data/app.db "$CCOM_BACKUP_DIR/"
  restore: cp "$CCOM_BACKUP_DIR/app.db" data/
`;
const DOCTOR_CHECKS = ['disk', 'memory', 'cpu-load', 'proxy-port', 'monitoring-port', 'history', 'live-release', 'routing', 'monitoring', 'alerts', 'backups'];

interface Check {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

async function doctor(dir: string): Promise<{ code: number; checks: Record<string, Check>; stderr: string }> {
  const run = await runCcom(['doctor', '-C', dir, '--json']);
  assert.ok(Array.isArray(run.json?.checks), `doctor printed no checks (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  const checks = Object.fromEntries((run.json.checks as Check[]).map((c) => [c.name, c]));
  return { code: run.code, checks, stderr: run.stderr };
}

/** An app with data and a backup config that is never deployed. */
function undeployedApp(): FixtureApp {
  const app = fixtureApp('v1');
  mkdirSync(join(app.dir, 'data'));
  writeFileSync(join(app.dir, 'data', 'app.db'), 'SQLite format 3\0 rows…');
  return app;
}

describe('ccom doctor and /metrics on a deployed app', () => {
  let app: FixtureApp;
  let hook: Webhook;
  let url: string;
  let release: string;

  before(async () => {
    hook = await startWebhook();
    app = fixtureApp('v1');
    mkdirSync(join(app.dir, 'data'));
    writeFileSync(join(app.dir, 'data', 'app.db'), Buffer.from([0x53, 0x51, 0x4c, 0, 1, 2, 3, 255]));
    writeOpsServer(app, 'v1', 'checkout');
    writeOpsConfig(app, `${BACKUP}alerts:\n  webhook: ${hook.url}\n`, { monitoring: '  business:\n    - name: checkout\n      path: /checkout\n      method: POST\n' });
    const { run, doc } = await deployJson(app.dir);
    assert.equal(run.code, 0, run.stderr);
    url = doc.url;
    release = doc.release;
  });
  after(async () => {
    await app.cleanup();
    await hook.close();
  });

  it('doctor passes every check (exit 0), proving backups by a restore and pinging the webhook', async () => {
    const { code, checks, stderr } = await doctor(app.dir);
    assert.equal(code, 0, `${stderr}\n${JSON.stringify(checks, null, 2)}`);
    for (const name of DOCTOR_CHECKS) {
      assert.ok(checks[name], `doctor has no "${name}" check`);
      assert.ok(checks[name].status === 'pass' || checks[name].status === 'warn', `${name}: ${checks[name].status} ${checks[name].message}`);
    }
    for (const name of ['proxy-port', 'monitoring-port', 'history', 'live-release', 'routing', 'monitoring', 'alerts', 'backups']) assert.equal(checks[name]!.status, 'pass', `${name}: ${checks[name]!.message}`);
    assert.match(checks.backups!.message, /restore into a scratch directory/);
    assert.match(checks.routing!.message, new RegExp(`${release} 100% on 2 instance`));
    const ping = await hook.waitFor((b) => b.event === 'ping');
    assert.equal(ping.app, 'fixture');
  });

  it('/metrics is Prometheus text with per-release series and the business success ratio', async () => {
    const status = await runCcom(['status', '-C', app.dir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const metricsUrl: unknown = status.json.monitoring;
    assert.equal(typeof metricsUrl, 'string', `ccom status --json has no monitoring URL: ${status.stdout}`);
    assert.match(metricsUrl as string, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    for (let i = 0; i < 10; i++) assert.equal((await get(url)).status, 200);
    // n = 1..8: 4 and 8 fail, so 6 of 8 succeed.
    for (let n = 1; n <= 8; n++) {
      const res = await fetch(`${url}/checkout?n=${n}`, { method: 'POST', body: 'sku=a-1' });
      await res.text();
      assert.equal(res.status, n % 4 === 0 ? 500 : 200);
    }

    const res = await fetch(metricsUrl as string);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const { samples, types } = parsePrometheus(await res.text());
    const live = { release };

    assert.equal(types.ccom_requests_total, 'counter');
    const ok = series(samples, 'ccom_requests_total', { ...live, class: '2xx' });
    assert.equal(ok.length, 1);
    assert.ok(ok[0]!.value >= 16, `2xx requests: ${ok[0]!.value}`);
    assert.equal(ok[0]!.labels.app, 'fixture');
    assert.ok(series(samples, 'ccom_requests_total', { ...live, class: '5xx' })[0]!.value >= 2);

    assert.equal(types.ccom_request_duration_seconds, 'histogram');
    const buckets = series(samples, 'ccom_request_duration_seconds_bucket', live);
    assert.ok(buckets.length > 2);
    assert.equal(buckets.at(-1)!.labels.le, '+Inf');
    assert.ok(buckets.at(-1)!.value >= 18);
    buckets.reduce((prev, b) => (assert.ok(b.value >= prev, 'bucket counts are cumulative'), b.value), 0);
    assert.equal(series(samples, 'ccom_request_duration_seconds_count', live)[0]?.value, buckets.at(-1)!.value);

    const memory = series(samples, 'ccom_instance_memory_bytes', live);
    assert.equal(memory.length, 2, 'one memory series per instance');
    for (const m of memory) assert.ok(m.value > 5e6 && m.value < 1e9, `rss ${m.value}`);
    assert.equal(series(samples, 'ccom_instance_cpu_seconds_total', live).length, 2);
    const restarts = series(samples, 'ccom_instance_restarts_total', live);
    assert.equal(restarts.length, 2);
    assert.ok(restarts.every((r) => r.value === 0));
    assert.ok((series(samples, 'ccom_deployments_total', { status: 'succeeded' })[0]?.value ?? 0) >= 1);

    const ratio = series(samples, 'ccom_business_success_ratio', { ...live, name: 'checkout' });
    assert.equal(ratio.length, 1);
    assert.ok(Math.abs(ratio[0]!.value - 0.75) < 1e-9, `checkout success ratio ${ratio[0]!.value}`);
  });

  // The two below change the deployed app: they run last, the history one putting it back.
  it('a history that cannot be written (state.db immutable, so even root cannot) fails history with the fix', async () => {
    const db = join(app.state, 'state.db');
    execFileSync('chattr', ['+i', db]);
    try {
      const { code, checks } = await doctor(app.dir);
      assert.equal(code, 2);
      assert.equal(checks.history?.status, 'fail', JSON.stringify(checks.history));
      assert.match(checks.history!.message, /state\.db cannot be written \(EPERM\)/);
      assert.match(checks.history!.fix ?? '', /lsattr/);
    } finally {
      execFileSync('chattr', ['-i', db]);
    }
  });

  it('a live release whose directory was deleted fails live-release with the fix', async () => {
    const dir = join(app.state, 'releases', release);
    rmSync(dir, { recursive: true, force: true });
    const { code, checks } = await doctor(app.dir);
    assert.equal(code, 2);
    assert.equal(checks['live-release']?.status, 'fail', JSON.stringify(checks['live-release']));
    assert.match(checks['live-release']!.message, new RegExp(`live release ${release} has no directory any more`));
    assert.match(checks['live-release']!.fix ?? '', /ccom deploy/);
  });
});

describe('ccom doctor fails (exit 2) on what would break a deploy', () => {
  let app: FixtureApp;
  before(() => {
    app = undeployedApp();
  });
  after(() => app.cleanup());

  it('a proxy port held by another program fails proxy-port, naming the port', async () => {
    const taken = await occupyPort();
    try {
      writeOpsConfig(app, BACKUP, { proxyPort: taken.port });
      const { code, checks } = await doctor(app.dir);
      assert.equal(code, 2);
      assert.equal(checks['proxy-port']?.status, 'fail');
      assert.match(checks['proxy-port']!.message, new RegExp(`port ${taken.port}\\b`));
      assert.ok(checks['proxy-port']!.fix);
      assert.equal(checks.backups?.status, 'pass', checks.backups?.message);
    } finally {
      await new Promise((r) => taken.server.close(r));
    }
  });

  it('a backup.restore that restores nothing fails the backups check', async () => {
    writeOpsConfig(app, 'shared: [data]\nbackup:\n  run: cp data/app.db "$CCOM_BACKUP_DIR/"\n  restore: "true"\n');
    const { code, checks } = await doctor(app.dir);
    assert.equal(code, 2);
    assert.equal(checks.backups?.status, 'fail');
    assert.match(checks.backups!.message, /restore/);
    assert.deepEqual(Object.values(checks).filter((c) => c.status === 'fail').map((c) => c.name), ['backups']);
  });

  it('alerts.webhook pointing at a closed port fails the alerts check', async () => {
    writeOpsConfig(app, `${BACKUP}alerts:\n  webhook: http://127.0.0.1:${await closedPort()}/hook\n  timeout: 1s\n`);
    const { code, checks } = await doctor(app.dir);
    assert.equal(code, 2);
    assert.equal(checks.alerts?.status, 'fail');
    assert.match(checks.alerts!.message, /not reachable/);
    assert.deepEqual(Object.values(checks).filter((c) => c.status === 'fail').map((c) => c.name), ['alerts']);
  });
});
