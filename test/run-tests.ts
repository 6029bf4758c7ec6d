/**
 * Runs the test files with node's test runner, longest first. `node --test` sorts its files
 * by name, so the Next.js suite (minutes of `next build`) started late and ended the run
 * alone; started first, the short files fill the other slots around the long ones.
 *
 * Usage: node --import tsx test/run-tests.ts [file ...]   (no files: every test/*.test.ts)
 * CCOM_TEST_CONCURRENCY sets how many files run at once (default 3).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';

/** Files by their run time in a full run (longest first, but see false-alarms); the rest follow by name. */
const LONGEST_FIRST = [
  'real-app-next',
  'mixed-load',
  'agent-kill-mid-deploy',
  'watch',
  'canary',
  'tls-renewal',
  'tls-shared-port',
  // Its CPU hog takes a core for minutes: started a little later, it overlaps fewer of the
  // Next.js suite's builds (a first deploy took 300 s beside it, 47 s alone).
  'false-alarms',
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

const stream = run({ files, concurrency: Number(process.env.CCOM_TEST_CONCURRENCY ?? 3) });
// A failing test marked todo does not fail the run, as with `node --test`.
stream.on('test:fail', (event) => {
  if (event.todo === undefined || event.todo === false) process.exitCode = 1;
});
stream.compose(tap).pipe(process.stdout);
