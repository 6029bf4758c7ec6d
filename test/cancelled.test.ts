import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cancelledOutcome } from '../src/pipeline/cancelled.js';
import { outcomeOf } from '../src/pipeline/outcome.js';
import { RollbackFailed, RolledBack } from '../src/pipeline/failures.js';
import { Interrupted } from '../src/pipeline/steps.js';

// The errors are the ones the pipeline throws after a signal (steps.ts, strategies/roll-back.ts).
const by = 'interrupted by SIGINT';

test('Ctrl-C before anything changed: blocked, nothing changed, no "fix the cause"', () => {
  const out = cancelledOutcome(outcomeOf(new Interrupted(`${by} before step gate:test`), false), by, 'r1');
  assert.equal(out.status, 'blocked');
  assert.equal(out.reason, 'cancelled by Ctrl-C before step gate:test; nothing was changed');
  assert.equal(out.fix, 'deploy again when you are ready');
});

test('Ctrl-C of a first deploy says no release serves, as before', () => {
  const out = cancelledOutcome(outcomeOf(new RolledBack(`${by} at canary step 50%`, { fix: 'fix the cause' }), true), by, null);
  assert.equal(out.status, 'rolled_back');
  assert.equal(out.exitCode, 1);
  assert.equal(out.reason, 'cancelled by Ctrl-C at canary step 50%; no release was live before, and none is now');
});

test('a failed rollback after Ctrl-C keeps its fix: a person must act', () => {
  const failed = outcomeOf(new RollbackFailed(`${by} at smoke; then the rollback failed: boom`, { fix: 'run `ccom status`' }), true);
  const out = cancelledOutcome(failed, by, 'r1');
  assert.equal(out.status, 'failed');
  assert.equal(out.reason, 'cancelled by Ctrl-C at smoke, then the rollback failed: boom');
  assert.equal(out.fix, 'run `ccom status`');
});

test('a check that failed on its own while Ctrl-C waited keeps its reason', () => {
  const own = outcomeOf(new RolledBack('analysis failed at canary step 50%: error rate 20%'), true);
  assert.deepEqual(cancelledOutcome(own, by, 'r1'), own);
});
