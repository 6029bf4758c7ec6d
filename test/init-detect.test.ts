import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectApp, directNodeCommand, appName } from '../src/config/detect.js';
import type { DetectedApp } from '../src/config/detect.js';
import { renderConfigYaml } from '../src/config/render.js';
import { writeConfig } from '../src/config/write.js';
import { loadConfig, parseConfigText } from '../src/config/load.js';
import { UserError } from '../src/errors.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ccom-detect-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A fresh app directory with the given files (objects are written as JSON). */
function app(files: Record<string, string | object>, name = `app${++counter}`): string {
  const dir = path.join(root, name);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const SERVER = `const http = require('node:http');
http.createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : 'hi')).listen(process.env.PORT || 3000);
`;

test('a simple `node ...` start script is used directly; scripts become gates and build', () => {
  const dir = app({
    'package.json': {
      name: 'shop',
      scripts: { start: 'node server.js', test: 'node --test', lint: 'eslint .', typecheck: 'tsc --noEmit', build: 'tsc', other: 'x' },
    },
    'server.js': SERVER,
  });
  const d = detectApp(dir);
  assert.equal(d.app, 'shop');
  assert.equal(d.start, 'node server.js');
  assert.equal(d.startFile, 'server.js');
  assert.deepEqual(d.gates, [
    { name: 'test', run: 'npm test' },
    { name: 'lint', run: 'npm run lint' },
    { name: 'typecheck', run: 'npm run typecheck' },
  ]);
  assert.equal(d.build, 'npm run build');
  assert.equal(d.healthPath, '/healthz');
  assert.equal(d.port, 3000);
  assert.equal(d.readsPortEnv, true);
});

test('a shell-ish start script runs through npm start; the npm placeholder test is not a gate', () => {
  const dir = app({
    'package.json': {
      name: 'api',
      scripts: { start: 'NODE_ENV=production node dist/main.js', test: 'echo "Error: no test specified" && exit 1' },
    },
    'dist/main.js': "app.get('/health', ok); app.listen(process.env.PORT)",
  });
  const d = detectApp(dir);
  assert.equal(d.start, 'npm start');
  assert.equal(d.startFile, 'dist/main.js');
  assert.deepEqual(d.gates, []);
  assert.equal(d.build, undefined);
  assert.equal(d.healthPath, '/health');
});

test('without a start script: main, then server.js / index.js / app.js', () => {
  const withMain = detectApp(app({ 'package.json': { name: 'm', main: 'lib/start.js' }, 'lib/start.js': 'listen(process.env.PORT)' }));
  assert.equal(withMain.start, 'node lib/start.js');
  // npm init writes main: index.js even when there is none; fall through to the file that exists.
  const missingMain = detectApp(app({ 'package.json': { name: 'm', main: 'index.js' }, 'app.js': 'listen(process.env.PORT)' }));
  assert.equal(missingMain.start, 'node app.js');
  const noPackage = detectApp(app({ 'index.js': SERVER }, 'Plain_Dir'));
  assert.equal(noPackage.start, 'node index.js');
  assert.equal(noPackage.app, 'plain-dir');
  assert.deepEqual(noPackage.gates, []);
});

test('no way to start the app is a UserError naming what was looked for', () => {
  const dir = app({ 'package.json': { name: 'empty', scripts: { test: 'node --test' } } });
  assert.throws(() => detectApp(dir), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /no "start" script and no "main" file, and there is no server\.js, index\.js, app\.js/);
    assert.match(err.fix ?? '', /^add a start script to package\.json/);
    return true;
  });
});

test('invalid package.json is a UserError, not a crash', () => {
  assert.throws(() => detectApp(app({ 'package.json': '{"name": ' })), (err: unknown) => err instanceof UserError && /package\.json .* not valid JSON/.test(err.message));
});

test('health route: found in a file the start file imports; otherwise /', () => {
  const split = detectApp(app({
    'package.json': { scripts: { start: 'node server.js' } },
    'server.js': "const app = require('./app');\napp.listen(process.env.PORT);",
    'app.js': "module.exports = { route: '/health' };",
  }));
  assert.equal(split.healthPath, '/health');
  const none = detectApp(app({ 'server.js': "if (url === '/healthcheck') {} server.listen(8000)" }));
  assert.equal(none.healthPath, '/');
  assert.equal(none.port, 8000);
  assert.equal(none.readsPortEnv, false);
  assert.ok(none.notes.some((n) => n.includes('does not seem to read PORT')), none.notes.join('\n'));
});

test('app names are sanitized; the directory name is the fallback', () => {
  assert.equal(appName('@acme/My_Shop.v2', '/x/y'), 'my-shop-v2');
  assert.equal(appName('___', '/x/Cool App'), 'cool-app');
  assert.equal(appName(undefined, '/x/---'), 'app');
  assert.equal(appName('a'.repeat(80), '/x'), 'a'.repeat(63));
});

test('directNodeCommand accepts plain node commands only', () => {
  assert.equal(directNodeCommand('node server.js'), 'server.js');
  assert.equal(directNodeCommand('node --enable-source-maps -r dotenv/config ./dist/server.js --verbose'), 'dist/server.js');
  assert.equal(directNodeCommand('node --env-file=.env server.js'), 'server.js');
  for (const s of ['node server.js && echo hi', 'node -e "x"', 'nodemon server.js', 'node $FILE', 'node']) {
    assert.equal(directNodeCommand(s), undefined, s);
  }
});

test('pnpm and yarn lockfiles change the script runner', () => {
  const pnpm = detectApp(app({ 'package.json': { scripts: { start: 'next start', lint: 'next lint' } }, 'pnpm-lock.yaml': '' }));
  assert.equal(pnpm.start, 'pnpm start');
  assert.deepEqual(pnpm.gates, [{ name: 'lint', run: 'pnpm run lint' }]);
  const yarn = detectApp(app({ 'package.json': { scripts: { start: 'node s.js', test: 'jest' } }, 'yarn.lock': '' }));
  assert.deepEqual(yarn.gates, [{ name: 'test', run: 'yarn test' }]);
});

test('a next build whose lint script is a gate skips its own lint; other builds run as written', () => {
  const next = { start: 'next start', build: 'next build', lint: 'next lint' };
  assert.equal(detectApp(app({ 'package.json': { scripts: next }, 'package-lock.json': '{}' })).build, 'npm run build -- --no-lint');
  assert.equal(detectApp(app({ 'package.json': { scripts: next }, 'pnpm-lock.yaml': '' })).build, 'pnpm run build --no-lint');
  const turbopack = { ...next, build: 'next build --turbopack' };
  assert.equal(detectApp(app({ 'package.json': { scripts: turbopack } })).build, 'npm run build -- --no-lint', 'create-next-app@15 writes this');
  assert.equal(detectApp(app({ 'package.json': { scripts: { ...next, build: 'next build --no-lint' } } })).build, 'npm run build');
  assert.equal(detectApp(app({ 'package.json': { scripts: { ...next, lint: undefined } } })).build, 'npm run build', 'no lint gate: next build lints');
  assert.equal(detectApp(app({ 'package.json': { scripts: { ...next, build: 'next build && next-sitemap' } } })).build, 'npm run build');
  assert.equal(detectApp(app({ 'package.json': { scripts: { start: 'node s.js', build: 'tsc', lint: 'eslint .' } } })).build, 'npm run build');
});

test('SQLite data and uploads are detected as shared; .env.production as the env file', () => {
  const d = detectApp(app({ 'server.js': SERVER, 'data/app.db': '', 'uploads/.keep': '', '.env.production': 'A=1\n' }));
  assert.deepEqual(d.shared, ['data', 'uploads']);
  assert.equal(d.envFile, '.env.production');
  const plain = detectApp(app({ 'server.js': SERVER, 'data/seed.json': '{}' }));
  assert.deepEqual(plain.shared, []);
});

test('the rendered ccom.yaml round-trips through parseConfig for every shape', () => {
  const shapes: DetectedApp[] = [
    detectApp(app({ 'package.json': { name: 'full', scripts: { start: 'node server.js', test: 'node --test', lint: 'eslint .', build: 'tsc' } }, 'server.js': SERVER, 'data/x.sqlite': '', '.env.production': '' })),
    detectApp(app({ 'index.js': 'listen()' })),
    { app: 'odd', start: 'node "my server.js" --flag: yes # not a comment', gates: [{ name: 'check', run: 'npm run check -- --fix: true' }], healthPath: '/healthz', shared: [], notes: [] },
  ];
  for (const d of shapes) {
    const config = parseConfigText(renderConfigYaml(d), 'ccom.yaml');
    assert.equal(config.app, d.app);
    assert.equal(config.start, d.start);
    assert.equal(config.health.path, d.healthPath);
    assert.equal(config.build?.command, d.build);
    assert.deepEqual(config.shared, d.shared);
    assert.equal(config.env.file, d.envFile);
    assert.deepEqual(config.gates.map((g) => ({ name: g.name, run: g.run })), d.gates);
    assert.equal(config.strategy, 'blue-green');
  }
});

test('writeConfig writes a loadable ccom.yaml and refuses to overwrite without force', () => {
  const dir = app({ 'server.js': SERVER });
  const yamlText = renderConfigYaml(detectApp(dir));
  const written = writeConfig(dir, yamlText);
  assert.equal(written, path.join(dir, 'ccom.yaml'));
  assert.equal(loadConfig(dir).config.health.path, '/healthz');

  assert.throws(() => writeConfig(dir, 'app: other\nstart: x\n'), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /ccom\.yaml already exists/);
    assert.equal(err.fix, 'pass --force to overwrite');
    return true;
  });
  assert.equal(fs.readFileSync(written, 'utf8'), yamlText);

  writeConfig(dir, 'app: other\nstart: x\n', { force: true });
  assert.equal(loadConfig(dir).config.app, 'other');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);

  const jsonDir = app({ 'ccom.json': { app: 'j', start: 'x' } });
  assert.throws(() => writeConfig(jsonDir, yamlText), { message: /ccom\.json already exists/ });
});

test('an app served by a CLI that reads PORT itself (fastify-cli, next) is not warned about PORT', () => {
  const plugin = `module.exports = async function (fastify) { fastify.get('/', async () => ({ root: true })) }\n`;
  const fastifyApp = detectApp(app({ 'package.json': { name: 'fastify-app', scripts: { start: 'fastify start -l info app.js' } }, 'app.js': plugin }));
  assert.ok(!fastifyApp.notes.some((n) => n.includes('does not seem to read PORT')), fastifyApp.notes.join('\n'));
  const plainApp = detectApp(app({ 'package.json': { name: 'plain', scripts: { start: 'node app.js' } }, 'app.js': plugin }));
  assert.ok(plainApp.notes.some((n) => n.includes('does not seem to read PORT')), 'a plain node app still is');
});

test('the rendered config leaves monitoring.port unset and writes the chosen proxy port', () => {
  const detected = detectApp(app({ 'package.json': { name: 'ports', scripts: { start: 'node server.js' } }, 'server.js': SERVER }));
  const yaml = renderConfigYaml({ ...detected, proxyPort: 8093 });
  const config = parseConfigText(yaml, 'ccom.yaml');
  assert.equal(config.proxy.port, 8093);
  assert.equal(config.monitoring.portFromDefault, true, 'monitoring.port is left to its default, which moves when taken');
});
