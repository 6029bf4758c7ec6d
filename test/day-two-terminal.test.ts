import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ccomEnv, runCcom } from './helpers/ccom.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { startLoad } from './helpers/load.js';

const BIN = new URL('../bin/ccom.js', import.meta.url).pathname;
let app: FixtureApp;
const typescript = join(tmpdir(), `ccom-tty-${process.pid}.txt`);
after(async () => {
  await app?.cleanup();
  rmSync(typescript, { force: true });
});

/** Runs ccom in a pseudo-terminal (util-linux `script`), as a person at a terminal would; returns what it drew. */
function inTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((w) => `'${w}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, typescript], { env: { ...ccomEnv(args), CI: '', NO_COLOR: '', TERM: 'xterm', COLUMNS: '200', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, screen: readFileSync(typescript, 'utf8') }));
  });
}

const BUILD = 'for i in 1 2 3 4 5 6; do echo compiling part $i; sleep ${BUILD_SLEEP:-1}; done';

test('the terminal shows elapsed time, a build\'s last lines, and a canary step\'s countdown and live counts; CI gets a line every few seconds', { skip: spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0 ? false : 'no script(1) here', timeout: 120_000 }, async () => {
  app = fixtureApp('v1');
  app.config(`build:\n  command: "${BUILD}"\ncanary:\n  steps: [50, 100]\n  interval: 3s\nanalysis:\n  minRequests: 5\n`);
  // CI (plain): a 6 s build prints one progress line with its last output, not one per line.
  const plain = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(plain.code, 0, plain.stderr);
  const progressLines = plain.stderr.split('\n').filter((l) => l.startsWith('  … build running for'));
  assert.ok(progressLines.length >= 1 && progressLines.length <= 2, `plain progress lines: ${JSON.stringify(progressLines)}`);
  assert.match(progressLines[0] ?? '', /^ {2}… build running for \d+(\.\d)?s: compiling part \d$/);
  assert.ok(!plain.stderr.includes('\x1b['), 'no escape codes in CI');

  const load = startLoad(plain.json.deployment.url, 4);
  let screen: string;
  try {
    app.write('v2');
    const run = await inTerminal(['deploy', '-C', app.dir, '--strategy', 'canary'], { BUILD_SLEEP: '0.3' });
    screen = run.screen;
    assert.equal(run.code, 0, screen.slice(-3000));
  } finally {
    const report = await load.stop();
    assert.equal(report.failed, 0);
  }
  // What the live line said, frame by frame (each redraw starts with CR + clear-to-end).
  const frames = screen.split('\r\x1b[J').map((f) => f.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')); // eslint-disable-line no-control-regex
  const buildFrames = frames.filter((f) => /^\S build… \d+\.\ds/.test(f));
  assert.ok(buildFrames.length > 5, 'the build step is a live line with its elapsed time');
  assert.ok(buildFrames.some((f) => /\n {4}│ compiling part 2\r?\n {4}│ compiling part 3/.test(f)), 'the build\'s last lines show under it');
  assert.ok(buildFrames.some((f) => /\n {4}│ compiling part 5\r?\n {4}│ compiling part 6/.test(f)), 'and are replaced as they come');
  const canary = frames.map((f) => /^\S canary:50%… \d+\.\ds (\d+\.\d)s left · new release: (\d+) requests?, (\d+) errors?/.exec(f)).filter((m) => m !== null);
  const countdown = new Set(canary.map((m) => m[1]));
  const counts = canary.map((m) => Number(m[2]));
  assert.ok(countdown.size >= 4, `the countdown changes: ${[...countdown].join(', ')}`);
  assert.ok(new Set(counts).size >= 3 && (counts.at(-1) ?? 0) > (counts[0] ?? 0), `the live request count grows: ${[...new Set(counts)].join(', ')}`);
  assert.ok(canary.every((m) => m[3] === '0'), 'no errors counted for a good release');
  assert.match(screen, /✔\S* canary:50%/);
  assert.match(screen, /Your app is live at/);
});
