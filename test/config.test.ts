import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, parseConfig, parseConfigText } from '../src/config/load.js';
import { formatDuration, parseDuration, parseFraction } from '../src/config/duration.js';
import { UserError } from '../src/errors.js';
import type { Config } from '../src/config/types.js';

const SPEC_EXAMPLE = `
app: shop                       # [a-z0-9-], required
start: node server.js
build:
  command: npm run build
  artifacts: [dist, node_modules, package.json]
shared: [data, uploads]
gates:
  - name: test
    run: npm test
    timeout: 5m
  - name: lint
    run: npm run lint
    required: false
env:
  file: .env.production
  required: [DATABASE_URL]
migrations:
  check: npx prisma migrate status
  run: npx prisma migrate deploy
backup:
  run: cp data/app.db "$CCOM_BACKUP_DIR/"
  restore: cp "$CCOM_BACKUP_DIR/app.db" data/
instances: 2
health:
  path: /healthz
  interval: 1s
  timeout: 30s
smoke:
  - path: /
    status: 200
    contains: Welcome
strategy: blue-green
canary:
  steps: [10, 50, pause, 100]
  interval: 5s
rolling:
  batch: 1
analysis:
  maxErrorRate: 1%
  maxLatencyP99: 500ms
  maxLatencyRatio: 1.5
  minRequests: 20
proxy:
  host: 127.0.0.1
  port: 8080
monitoring:
  port: 9464
alerts:
  webhook: https://hooks.example.com/ccom
`;

const DEFAULTS: Omit<Config, 'app' | 'start'> = {
  shared: [],
  gates: [],
  env: { required: [], values: {} },
  logs: { maxSize: 10_000_000 },
  instances: 2,
  health: { path: '/', intervalMs: 1000, timeoutMs: 30_000 },
  smoke: [],
  strategy: 'blue-green',
  canary: { steps: [10, 50, 100], intervalMs: 5000 },
  rolling: { batch: 1, intervalMs: 2000 },
  analysis: { maxErrorRate: 0.01, maxLatencyP99Ms: 500, maxLatencyRatio: 1.5, minRequests: 20, inconclusiveTimeoutMs: 60_000, onInconclusive: 'rollback', warmupMs: 1000, minLatencyDeltaMs: 25, probeRate: 10, watchMs: 60_000 },
  proxy: { host: '127.0.0.1', port: 8080 },
  monitoring: { port: 9464, portFromDefault: true, business: [] },
  alerts: { format: 'json', timeoutMs: 2000, retries: 2 },
  limits: {},
  releases: { keep: 5 },
  drainTimeoutMs: 30_000,
  stopTimeoutMs: 10_000,
};

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ccom-config-'));
}

/** The UserError message lines a config produces (fails the test when it parses). */
function problems(yamlText: string, file = 'ccom.yaml'): string[] {
  try {
    parseConfigText(yamlText, file);
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    return err.message.split('\n');
  }
  assert.fail('config parsed but should not have');
}

const MINIMAL = 'app: shop\nstart: node server.js\n';

test('the full SPEC example resolves to milliseconds, fractions and renamed keys', () => {
  const config = parseConfigText(SPEC_EXAMPLE, 'ccom.yaml');
  assert.deepEqual(config, {
    ...DEFAULTS,
    app: 'shop',
    start: 'node server.js',
    build: { command: 'npm run build', artifacts: ['dist', 'node_modules', 'package.json'], timeoutMs: 600_000 },
    shared: ['data', 'uploads'],
    gates: [
      { name: 'test', run: 'npm test', timeoutMs: 300_000, required: true },
      { name: 'lint', run: 'npm run lint', timeoutMs: 600_000, required: false },
    ],
    env: { file: '.env.production', required: ['DATABASE_URL'], values: {} },
    migrations: { check: 'npx prisma migrate status', run: 'npx prisma migrate deploy', timeoutMs: 600_000 },
    backup: { run: 'cp data/app.db "$CCOM_BACKUP_DIR/"', restore: 'cp "$CCOM_BACKUP_DIR/app.db" data/', keep: 5, restoreOnRollback: true },
    health: { path: '/healthz', intervalMs: 1000, timeoutMs: 30_000 },
    smoke: [{ path: '/', method: 'GET', status: 200, contains: 'Welcome' }],
    canary: { steps: [10, 50, 'pause', 100], intervalMs: 5000 },
    monitoring: { port: 9464, portFromDefault: false, business: [] },
    alerts: { webhook: 'https://hooks.example.com/ccom', format: 'json', timeoutMs: 2000, retries: 2 },
  });
});

test('a minimal config gets every default', () => {
  assert.deepEqual(parseConfigText(MINIMAL, 'ccom.yaml'), { ...DEFAULTS, app: 'shop', start: 'node server.js' });
});

test('empty sections (YAML null) take their defaults', () => {
  const config = parseConfigText(`${MINIMAL}health:\nalerts:\ngates:\n`, 'ccom.yaml');
  assert.deepEqual(config.health, DEFAULTS.health);
  assert.deepEqual(config.gates, []);
  assert.deepEqual(config.alerts, { format: 'json', timeoutMs: 2000, retries: 2 });
});

test('extra keys: drainTimeout and stopTimeout become milliseconds; numbers are milliseconds', () => {
  const config = parseConfigText(`${MINIMAL}drainTimeout: 2m\nstopTimeout: 1500\nanalysis:\n  maxErrorRate: 0.05\n  warmup: 5s\n  minLatencyDelta: 0\n`, 'ccom.yaml');
  assert.equal(config.drainTimeoutMs, 120_000);
  assert.equal(config.stopTimeoutMs, 1500);
  assert.equal(config.analysis.maxErrorRate, 0.05);
  assert.deepEqual([config.analysis.warmupMs, config.analysis.minLatencyDeltaMs], [5000, 0]);
});

test('durations and percentages parse and reject what they should', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration(750), 750);
  for (const bad of ['soon', '5 sec', '-1s', -5, '', null, true]) assert.equal(parseDuration(bad), undefined, String(bad));
  assert.equal(parseFraction('1%'), 0.01);
  assert.equal(parseFraction('7%'), 0.07);
  assert.equal(parseFraction(0.25), 0.25);
  for (const bad of [5, '150%', 'x', -0.1]) assert.equal(parseFraction(bad), undefined, String(bad));
  assert.equal(formatDuration(1000), '1s');
  assert.equal(formatDuration(120_000), '2m');
  assert.equal(formatDuration(250), '250ms');
});

test('canary steps accept pause and percent strings, and always end at 100', () => {
  const steps = (s: string) => parseConfigText(`${MINIMAL}canary:\n  steps: ${s}\n`, 'ccom.yaml').canary.steps;
  assert.deepEqual(steps('[10, 50]'), [10, 50, 100]);
  assert.deepEqual(steps('[10%, pause]'), [10, 'pause', 100]);
  assert.deepEqual(steps('[25, 100, pause]'), [25, 100, 'pause']);
  assert.deepEqual(problems(`${MINIMAL}canary:\n  steps: [10, 500, wait]\n`), [
    'ccom.yaml:4:15: canary.steps[1]: got 500, expected a traffic percentage from 1 to 100, or pause',
    'ccom.yaml:4:20: canary.steps[2]: got "wait", expected a traffic percentage from 1 to 100, or pause',
  ]);
});

test('a bad duration names the key path, the value and the format', () => {
  assert.deepEqual(problems(`${MINIMAL}health:\n  timeout: soon\n`), [
    'ccom.yaml:4:12: health.timeout: got "soon", expected a duration above 0 like 500ms, 5s or 2m, at most 24 days',
  ]);
});

test('a bad strategy lists the choices', () => {
  assert.deepEqual(problems(`${MINIMAL}strategy: purple\n`), [
    'ccom.yaml:3:11: strategy: got "purple", expected one of recreate, rolling, blue-green, canary',
  ]);
});

test('unknown keys are errors at every level, with the closest known key', () => {
  assert.deepEqual(problems(`${MINIMAL}healthz:\n  path: /\n`), ['ccom.yaml:3:1: unknown key "healthz" at top level (did you mean "health"?)']);
  assert.deepEqual(problems(`${MINIMAL}health:\n  intervall: 1s\n`), ['ccom.yaml:4:3: unknown key "intervall" in health (did you mean "interval"?)']);
  assert.deepEqual(problems(`${MINIMAL}gates:\n  - name: t\n    run: x\n    requird: false\n`), [
    'ccom.yaml:6:5: unknown key "requird" in gates[0] (did you mean "required"?)',
  ]);
  assert.deepEqual(problems(`${MINIMAL}port: 3000\n`), ['ccom.yaml:3:1: unknown key "port" at top level (did you mean "proxy.port"?)']);
  assert.deepEqual(problems(`${MINIMAL}flavour: vanilla\n`), ['ccom.yaml:3:1: unknown key "flavour" at top level']);
});

test('missing, empty and mistyped values say what was found', () => {
  assert.deepEqual(problems('start: node server.js\n'), [
    'ccom.yaml:1:1: app: missing, expected a name of lowercase letters, digits and dashes (at most 63), like shop',
  ]);
  assert.deepEqual(problems('app:\nstart: node server.js\n'), [
    'ccom.yaml:1:1: app: got an empty value, expected a name of lowercase letters, digits and dashes (at most 63), like shop',
  ]);
  assert.deepEqual(problems('app: My_Shop\nstart: "  "\n'), [
    'ccom.yaml:1:6: app: got "My_Shop", expected a name of lowercase letters, digits and dashes (at most 63), like shop',
    'ccom.yaml:2:8: start: got "  ", expected a shell command that starts the app, like "node server.js"',
  ]);
  assert.deepEqual(problems(`${MINIMAL}instances: 100\nproxy:\n  port: 70000\nhealth: /healthz\n`), [
    'ccom.yaml:3:12: instances: got 100, expected a whole number from 1 to 64',
    'ccom.yaml:6:9: health: got "/healthz", expected a mapping with keys path, interval, timeout',
    'ccom.yaml:5:9: proxy.port: got 70000, expected a port number from 0 to 65535 (0 picks a free port)',
  ]);
  assert.deepEqual(problems('- app: shop\n'), ['ccom.yaml:1:1: got [{"app":"shop"}], expected a mapping of keys like app: and start:']);
});

test('every problem is reported at once, one per line', () => {
  const lines = problems('app: Shop\nstrategy: purple\nhealthz: 1\nhealth:\n  timeout: soon\n');
  assert.equal(lines.length, 5, lines.join('\n'));
  assert.ok(lines.includes('ccom.yaml:1:1: start: missing, expected a shell command that starts the app, like "node server.js"'));
  // Each line names the file, line and column of its key or value.
  assert.ok(lines.every((l) => /^ccom\.yaml:\d+:\d+: /.test(l)), lines.join('\n'));
});

test('cross-key checks: unique gate names, proxy and monitoring on different ports', () => {
  assert.deepEqual(problems(`${MINIMAL}gates:\n  - {name: test, run: a}\n  - {name: test, run: b}\n`), [
    'ccom.yaml:5:12: gates[1].name: got "test", expected a name not used by an earlier gate',
  ]);
  assert.deepEqual(problems(`${MINIMAL}proxy:\n  port: 9000\nmonitoring:\n  port: 9000\n`), [
    'ccom.yaml:6:9: monitoring.port: got 9000, expected a port other than proxy.port (9000)',
  ]);
});

test('paths must stay inside the app directory', () => {
  assert.deepEqual(problems(`${MINIMAL}shared: [../elsewhere, /var/data]\n`), [
    'ccom.yaml:3:10: shared[0]: got "../elsewhere", expected a relative path inside the app directory, like data',
    'ccom.yaml:3:24: shared[1]: got "/var/data", expected a relative path inside the app directory, like data',
  ]);
});

test('parseConfig accepts already-parsed documents and labels messages with the file name', () => {
  assert.equal(parseConfig({ app: 'a', start: 'b', instances: 3 }, '/some/dir/ccom.json').instances, 3);
  assert.throws(() => parseConfig({ app: 'a', start: 'b', instances: '3' }, '/some/dir/ccom.json'), {
    message: 'ccom.json: instances: got "3", expected a whole number from 1 to 64',
  });
});

test('loadConfig: missing config says to run ccom init', () => {
  const dir = tempDir();
  try {
    assert.throws(() => loadConfig(dir), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.equal(err.message, `no ccom.yaml in ${dir}`);
      assert.equal(err.fix, 'run `ccom init` to create one');
      return true;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadConfig: broken YAML names the line and column', () => {
  const dir = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'ccom.yaml'), 'app: shop\nstart: node server.js\nhealth:\n\tpath: /\n');
    assert.throws(() => loadConfig(dir), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /^ccom\.yaml:4:1: Tabs are not allowed as indentation/);
      assert.doesNotMatch(err.message, /\n\s+at /); // no stack
      return true;
    });
    fs.writeFileSync(path.join(dir, 'ccom.yaml'), 'app: shop\napp: other\n');
    assert.throws(() => loadConfig(dir), { message: /^ccom\.yaml:2:1: Map keys must be unique/ });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadConfig: an empty or comment-only file gets a clear message', () => {
  const dir = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'ccom.yaml'), '# nothing yet\n');
    assert.throws(() => loadConfig(dir), { message: 'ccom.yaml is empty' });
    fs.rmSync(path.join(dir, 'ccom.yaml'));
    fs.writeFileSync(path.join(dir, 'ccom.json'), '  \n');
    assert.throws(() => loadConfig(dir), { message: 'ccom.json is empty' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadConfig: ccom.json is accepted, and broken JSON names the position', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'ccom.json');
    fs.writeFileSync(file, JSON.stringify({ app: 'shop', start: 'node server.js', health: { timeout: '5s' } }, null, 2));
    const loaded = loadConfig(dir);
    assert.equal(loaded.file, file);
    assert.equal(loaded.appDir, dir);
    assert.equal(loaded.config.health.timeoutMs, 5000);

    fs.writeFileSync(file, '{\n  "app": "shop"\n  "start": "x"\n}\n');
    assert.throws(() => loadConfig(dir), { message: /^ccom\.json:3:3: / });
    fs.writeFileSync(file, '{"app": "shop", "strategy": "purple", "start": "x"}');
    assert.throws(() => loadConfig(dir), {
      message: 'ccom.json:1:29: strategy: got "purple", expected one of recreate, rolling, blue-green, canary',
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadConfig reads ccom.yaml, ccom.yml or ccom.json, and refuses two of them side by side', () => {
  const dir = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'ccom.json'), JSON.stringify({ app: 'from-json', start: 'x' }));
    assert.equal(loadConfig(dir).config.app, 'from-json');
    fs.writeFileSync(path.join(dir, 'ccom.yml'), 'app: from-yml\nstart: x\n');
    assert.throws(() => loadConfig(dir), (err: UserError) => /^ccom\.yml and ccom\.json are both in /.test(err.message) && /keep one of them/.test(err.fix ?? ''));
    fs.rmSync(path.join(dir, 'ccom.json'));
    assert.equal(loadConfig(dir).config.app, 'from-yml');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('durations and sizes have bounds: no zero timeouts, no busy polling, no timer past 2^31 ms, no 1-byte memory limit', () => {
  const at = (line: string) => problems(`${MINIMAL}${line}`);
  assert.match(at('health:\n  timeout: 0\n')[0] ?? '', /health\.timeout: got 0, expected a duration above 0/);
  assert.match(at('health:\n  interval: 99ms\n')[0] ?? '', /health\.interval: got "99ms", expected a duration of at least 100ms/);
  assert.match(at('health:\n  interval: 25d\n')[0] ?? '', /health\.interval/);
  assert.match(at('health:\n  interval: 600h\n')[0] ?? '', /at most 24 days/);
  assert.match(at('gates:\n  - name: t\n    run: x\n    timeout: 0s\n')[0] ?? '', /gates\[0\]\.timeout: got "0s"/);
  assert.match(at('canary:\n  interval: 10ms\n')[0] ?? '', /canary\.interval/);
  assert.match(at('alerts:\n  timeout: 0\n')[0] ?? '', /alerts\.timeout/);
  assert.match(at('stopTimeout: 2147483648\n')[0] ?? '', /stopTimeout/);
  assert.match(at('limits:\n  memory: 15MB\n')[0] ?? '', /limits\.memory: got "15MB", expected a size of at least 16MB/);
  const edge = parseConfigText(`${MINIMAL}health:\n  interval: 100ms\n  timeout: 1\nstopTimeout: 0\ndrainTimeout: 2147483647\nlimits:\n  memory: 16MB\n`, 'ccom.yaml');
  assert.deepEqual([edge.health.intervalMs, edge.health.timeoutMs, edge.stopTimeoutMs, edge.drainTimeoutMs, edge.limits.memory], [100, 1, 0, 2 ** 31 - 1, 16e6]);
});

test('a config that attacks the parser (aliases expanding to millions of nodes, 100,000 levels of nesting) is a config error', () => {
  let laughs = 'app: shop\nstart: x\nx-l:\n  l0: &l0 "lol"\n';
  for (let i = 1; i <= 7; i++) laughs += `  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]\n`;
  assert.match(problems(laughs)[0] ?? '', /^ccom\.yaml: aliases expand to too much data/);
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  assert.match(problems(`{"app":"shop","start":"x","shared":${deep}}`, 'ccom.json')[0] ?? '', /ccom\.json nests lists or mappings more than 32 levels deep/);
  assert.match(problems(`${MINIMAL}shared: ${deep}\n`)[0] ?? '', /ccom\.yaml nests lists or mappings more than 32 levels deep/);
});

test('env.values: non-secret variables as strings; PORT, CCOM_* and nested values are refused with their key', () => {
  const at = (extra: string) => {
    try {
      parseConfigText(`${MINIMAL}${extra}`, 'ccom.yaml');
      return [];
    } catch (err) {
      return String((err as Error).message).split('\n');
    }
  };
  assert.deepEqual(parseConfigText(`${MINIMAL}env:\n  values: { NODE_ENV: staging, WORKERS: 3, DEBUG: false }\n`, 'ccom.yaml').env.values, { NODE_ENV: 'staging', WORKERS: '3', DEBUG: 'false' });
  assert.match(at('env:\n  values: { PORT: 3000 }\n')[0] ?? '', /env\.values\.PORT: .*not PORT or CCOM_\*/);
  assert.match(at('env:\n  values: { CCOM_RELEASE: x }\n')[0] ?? '', /env\.values\.CCOM_RELEASE/);
  assert.match(at('env:\n  values: { A: [1] }\n')[0] ?? '', /env\.values\.A: got \[1\], expected a text, number or true\/false value/);
  assert.match(at('env:\n  values: production\n')[0] ?? '', /env\.values: got "production", expected a mapping/);
});
