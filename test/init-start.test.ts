import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectApp } from '../src/config/detect.js';

/** An app whose start script runs a package's bin, as fastify-cli's and create-next-app's do. */
function appWithStart(start: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-init-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shop', scripts: { start, ...extra } }));
  writeFileSync(join(dir, 'app.js'), 'module.exports = async function (app) { app.get("/", async () => "ok") }\n');
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', '.bin', 'fastify'), '#!/usr/bin/env node\n');
  chmodSync(join(dir, 'node_modules', '.bin', 'fastify'), 0o755);
  return dir;
}

test('init runs a plain start script of a package bin without npm, so SIGTERM reaches the app', () => {
  const dir = appWithStart('fastify start -l info app.js');
  try {
    assert.equal(detectApp(dir).start, 'node_modules/.bin/fastify start -l info app.js');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('init keeps `npm start` for scripts npm must run: shell syntax, a prestart, an unknown command', () => {
  for (const [start, extra] of [['fastify start -p $PORT app.js', {}], ['fastify start app.js', { prestart: 'node migrate.js' }], ['NODE_ENV=production fastify start app.js', {}], ['next start', {}]] as const) {
    const dir = appWithStart(start, extra);
    try {
      assert.equal(detectApp(dir).start, 'npm start', start);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
