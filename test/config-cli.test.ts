import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
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
    names: [/line 4\b/],
  },
  {
    name: 'a missing ccom.yaml',
    make: (app) => rmSync(join(app.dir, 'ccom.yaml')),
    names: [/ccom\.yaml/],
  },
];

function replaced(from: string, to: string): string {
  assert.ok(BASE_CONFIG.includes(from), `BASE_CONFIG has no "${from}"`);
  return BASE_CONFIG.replace(from, to);
}

for (const c of cases) {
  test(`ccom deploy with ${c.name} is blocked (exit 2) with a message naming it and no stack trace`, async () => {
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
