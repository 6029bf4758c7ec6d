import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCcom } from './helpers/ccom.js';
import { startCcom } from './helpers/failure-tools.js';
import { fixtureApp } from './helpers/fixture-app.js';

const PAUSED_CANARY = 'strategy: canary\ncanary:\n  steps: [50, pause]\n  interval: 200ms\nanalysis:\n  minRequests: 1\n  onInconclusive: promote\n  inconclusiveTimeout: 100ms\n';

test('a first deploy says how to stop the app; status and Ctrl-C of a canary speak to people', async () => {
  const app = fixtureApp('v1');
  let running: ReturnType<typeof startCcom> | undefined;
  try {
    app.config(PAUSED_CANARY);
    const first = await runCcom(['deploy', '-C', app.dir]);
    assert.equal(first.code, 0, first.stderr);
    // The app keeps running after the command: the last line says how to stop it.
    assert.match(first.stderr.trimEnd().split('\n').at(-1) ?? '', new RegExp(`stop it with \`ccom down -C ${app.dir}\`$`));
    app.write('v2');
    running = startCcom(['deploy', '-C', app.dir, '--json']);
    let release: string | undefined;
    for (let i = 0; i < 200 && !release; i++) {
      const status = await runCcom(['status', '-C', app.dir, '--json']);
      if (status.json?.deployment?.paused) release = status.json.deployment.release;
      else await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(release, 'the canary reached its pause');
    const human = await runCcom(['status', '-C', app.dir]);
    assert.equal(human.code, 0, human.stderr);
    assert.doesNotMatch(human.stderr, /\{"/, 'no raw JSON for people');
    assert.match(human.stderr, new RegExp(`deploy of release ${release} in progress \\(canary, by [^)]+\\) since \\d\\d:\\d\\d:\\d\\d UTC \\([\\d.]+m?s ago\\)`));
    assert.match(human.stderr, /step: [\w:%-]+; traffic: (stable|new) 50% \/ (stable|new) 50%/);
    assert.match(human.stderr, /\n {4}paused: .*`ccom promote`/);
    assert.equal(human.stderr.split('ccom promote').length - 1, 1, 'the commands are named once');

    process.kill(running.pid, 'SIGINT');
    const run = await running.done;
    running = undefined;
    assert.equal(run.code, 1, run.stderr);
    const d = run.json.deployment;
    assert.equal(d.status, 'rolled_back', 'the JSON status stays what SPEC says');
    assert.match(d.reason, new RegExp(`^cancelled by Ctrl-C .*; the previous release ${d.previous} serves$`));
    assert.equal(d.fix, 'deploy again when you are ready');
    assert.match(run.stderr, /⏹ Deployment cancelled by Ctrl-C/);
    assert.doesNotMatch(run.stderr, /Deployment failed|fix the cause/);
    const redeploy = await runCcom(['deploy', '-C', app.dir, '--strategy', 'blue-green']);
    assert.equal(redeploy.code, 0, redeploy.stderr);
    assert.doesNotMatch(redeploy.stderr, /ccom down/, 'only a first deploy gets the hint');
  } finally {
    // A failed assertion above must not leave the paused deploy running (ours, by pid).
    if (running) {
      try {
        process.kill(running.pid, 'SIGKILL');
      } catch {
        /* it had ended */
      }
      await running.done;
    }
    await app.cleanup();
  }
});

test('deploy without ccom.yaml is blocked before anything is launched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-empty-'));
  try {
    const run = await runCcom(['deploy', '-C', dir]);
    assert.equal(run.code, 2, run.stderr);
    assert.doesNotMatch(run.stderr, /Launching/);
    assert.match(run.stderr, new RegExp(`^❌ Deployment blocked - no ccom.yaml in ${dir}\n  fix: run \`ccom init\``));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config error names the file, line and column of the offending value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-badconf-'));
  try {
    writeFileSync(join(dir, 'ccom.yaml'), 'app: shop\nstart: node server.js\nhealth:\n  timeout: soon\n  intervall: 1s\n');
    const run = await runCcom(['deploy', '-C', dir, '--dry-run']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /ccom\.yaml:4:12: health\.timeout: got "soon"/);
    assert.match(run.stderr, /ccom\.yaml:5:3: unknown key "intervall" in health/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('init says each thing it detected once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-init-once-'));
  try {
    const scripts = { start: 'node server.js', test: 'node -e 0', lint: 'node -e 0', build: 'node -e 0' };
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'once', scripts }));
    writeFileSync(join(dir, 'server.js'), "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n");
    const init = await runCcom(['init', '-C', dir]);
    assert.equal(init.code, 0, init.stderr);
    for (const word of ['gates:', 'build:', 'node server.js', 'GET /']) {
      assert.equal(init.stderr.split(word).length - 1, 1, `"${word}" once in:\n${init.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
