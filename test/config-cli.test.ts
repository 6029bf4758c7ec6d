import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_CONFIG, fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { runCcom } from './helpers/ccom.js';

/** How each broken config is made, and what the message must name. */
const cases: Array<{ name: string; make(app: FixtureApp): void; names: RegExp[] }> = [
  {
    name: 'an unknown key',
    make: (app) => writeFileSync(join(app.dir, 'ccom.yaml'), `${BASE_CONFIG}colour: red\n`),
    names: [/"colour"/],
  },
  {
    name: 'a wrong type (instances: many)',
    make: (app) => writeFileSync(join(app.dir, 'ccom.yaml'), replaced('instances: 2', 'instances: many')),
    names: [/\binstances\b/, /many/],
  },
  {
    name: 'a bad duration',
    make: (app) => writeFileSync(join(app.dir, 'ccom.yaml'), replaced('interval: 200ms', 'interval: soonish')),
    names: [/health\.interval/, /soonish/],
  },
  {
    name: 'broken YAML (a tab on line 4)',
    make: (app) => writeFileSync(join(app.dir, 'ccom.yaml'), 'app: fixture\nstart: node server.js\nhealth:\n\tpath: /healthz\n'),
    names: [/ccom\.yaml:4:1: /],
  },
  {
    name: 'billion-laughs YAML (nested aliases)',
    make: (app) => writeFileSync(join(app.dir, 'ccom.yaml'), `${BASE_CONFIG}${laughs()}`),
    names: [/aliases expand to too much data/],
  },
  {
    name: 'JSON nested 100,000 levels deep',
    make: (app) => {
      rmSync(join(app.dir, 'ccom.yaml'));
      writeFileSync(join(app.dir, 'ccom.json'), `{"app":"fixture","start":"node server.js","build":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    },
    names: [/ccom\.json nests lists or mappings more than 32 levels deep/],
  },
  {
    name: 'ccom.json beside ccom.yaml',
    make: (app) => writeFileSync(join(app.dir, 'ccom.json'), '{"app":"other","start":"node server.js"}'),
    names: [/ccom\.yaml and ccom\.json are both in/],
  },
  {
    name: 'health.timeout: 0',
    make: (app) => writeFileSync(join(app.dir, 'ccom.yaml'), replaced('timeout: 5s', 'timeout: 0')),
    names: [/health\.timeout: got 0, expected a duration above 0/],
  },
  {
    name: 'health.interval: 0 (a busy health-check loop)',
    make: (app) => writeFileSync(join(app.dir, 'ccom.yaml'), replaced('interval: 200ms', 'interval: 0')),
    names: [/health\.interval: got 0, expected a duration of at least 100ms/],
  },
  {
    name: 'health.interval of 2^31 ms (a timer that fires at once)',
    make: (app) => writeFileSync(join(app.dir, 'ccom.yaml'), replaced('interval: 200ms', 'interval: 2147483648')),
    names: [/health\.interval: got 2147483648, expected .*at most 24 days/],
  },
  {
    name: 'limits.memory: 1',
    make: (app) => writeFileSync(join(app.dir, 'ccom.yaml'), `${BASE_CONFIG}limits:\n  memory: 1\n`),
    names: [/limits\.memory: got 1, expected a size of at least 16MB/],
  },
  {
    name: 'a FIFO as ccom.yaml (nothing ever writes to it)',
    make: (app) => {
      rmSync(join(app.dir, 'ccom.yaml'));
      execFileSync('mkfifo', [join(app.dir, 'ccom.yaml')]);
    },
    names: [/ccom\.yaml is not a regular file/],
  },
  {
    name: 'a directory as ccom.yaml',
    make: (app) => {
      rmSync(join(app.dir, 'ccom.yaml'));
      mkdirSync(join(app.dir, 'ccom.yaml'));
    },
    names: [/ccom\.yaml is (not a regular file|a directory)/],
  },
  {
    name: 'a missing ccom.yaml',
    make: (app) => rmSync(join(app.dir, 'ccom.yaml')),
    names: [/ccom\.yaml/],
  },
];

/** Nine aliases of nine aliases, seven levels: 9^7 (4.8 million) strings from a few lines. */
function laughs(): string {
  let text = 'x-laughs:\n  l0: &l0 "lol"\n';
  for (let i = 1; i <= 7; i++) text += `  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]\n`;
  return text;
}

function replaced(from: string, to: string): string {
  assert.ok(BASE_CONFIG.includes(from), `BASE_CONFIG has no "${from}"`);
  return BASE_CONFIG.replace(from, to);
}

for (const c of cases) {
  // A time limit, so a config read that blocks (a FIFO) fails the test instead of hanging it.
  test(`ccom deploy with ${c.name} is blocked (exit 2) with a message naming it and no stack trace`, { timeout: 60_000 }, async () => {
    const app = fixtureApp('v1');
    try {
      c.make(app);
      const json = await runCcom(['deploy', '-C', app.dir, '--json']);
      assert.equal(json.code, 2, json.stderr);
      assert.equal(json.json?.deployment?.status, 'blocked', json.stdout);
      const reason: string = json.json.deployment.reason;
      for (const re of c.names) assert.match(reason, re);
      assert.match(json.stderr, /^❌ Deployment blocked - /m);
      assert.ok(!json.stderr.includes('    at '), `stack trace on stderr:\n${json.stderr}`);

      const plain = await runCcom(['deploy', '-C', app.dir]);
      assert.equal(plain.code, 2);
      assert.equal(plain.stdout, '', 'a blocked deploy printed a result on stdout');
      for (const re of c.names) assert.match(plain.stderr, re);
      assert.ok(!plain.stderr.includes('    at '), `stack trace on stderr:\n${plain.stderr}`);
      // Blocked means nothing changed: not even ccom's state directory was created.
      assert.ok(!existsSync(app.state) && !existsSync(join(app.dir, '.ccom')), 'a blocked deploy created a state directory');
    } finally {
      await app.cleanup();
    }
  });
}
