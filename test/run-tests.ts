/**
 * Runs the test files with node's test runner, longest first. `node --test` sorts its files
 * by name, so the Next.js suite (minutes of `next build`) started late and ended the run
 * alone; started first, the short files fill the other slots around the long ones.
 *
 * Usage: node --import tsx test/run-tests.ts [file ...]   (no files: every test/*.test.ts)
 * CCOM_TEST_CONCURRENCY sets how many files run at once (default 2: the files are CPU-bound on
 * CI's 2 cores, and at 3 full runs were no faster: 767–862 s of tests against 832 s).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';

/** Files by their run time in a full run (longest first); the rest follow by name. */
const LONGEST_FIRST = [
  'real-app-next',
  // Its CPU hog slows the Next.js builds whenever they overlap; started later it overlapped the
  // suite's last build instead of its first and the run took 86 s longer (853 s against 767 s).
  'false-alarms',
  'mixed-load',
  'agent-kill-mid-deploy',
  'watch',
  'canary',
  'tls-renewal',
  'tls-shared-port',
  'real-app-fastify',
  'lifecycle',
  'zero-loss',
  'migrations',
  'serving-lock',
  'supervisor-hardening',
];

const dir = import.meta.dirname;
const given = process.argv.slice(2);
const all = given.length > 0 ? given : readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(dir, f));
const rank = (file: string) => {
  const i = LONGEST_FIRST.findIndex((name) => file.endsWith(`${name}.test.ts`));
  return i === -1 ? LONGEST_FIRST.length : i;
};
const files = [...all].sort((a, b) => rank(a) - rank(b));

const stream = run({ files, concurrency: Number(process.env.CCOM_TEST_CONCURRENCY ?? 2) });
// A failing test marked todo does not fail the run, as with `node --test`.
stream.on('test:fail', (event) => {
  if (event.todo === undefined || event.todo === false) process.exitCode = 1;
});
stream.compose(tap).pipe(process.stdout);
