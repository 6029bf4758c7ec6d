import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlagFileError, parseFlagFile } from '../src/flags/definitions.js';
import { evaluateFlag, isFailure, type Evaluation } from '../src/flags/evaluate.js';
import type { FlagOverride } from '../src/flags/overrides.js';

const file = (flags: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ flags, ...extra });
const bool = (extra: Record<string, unknown> = {}) => ({ state: 'ENABLED', defaultVariant: 'off', variants: { on: true, off: false }, ...extra });

function problemsOf(text: string): string[] {
  try {
    parseFlagFile(text, 'flags.json');
  } catch (err) {
    assert.ok(err instanceof FlagFileError, String(err));
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

test('an invalid flag file names each problem at its JSON path', () => {
  assert.deepEqual(problemsOf(file({ a: bool({ defaultVariant: 'blue' }) })), ['/flags/a/defaultVariant: "blue" is not one of its variants (on, off)']);
  assert.deepEqual(problemsOf(file({ a: bool({ state: 'ON' }) })), ['/flags/a/state: expected "ENABLED" or "DISABLED", got "ON"']);
  assert.deepEqual(problemsOf(file({ a: bool({ variants: { on: true, off: 'no' } }) })), ['/flags/a/variants/off: all variants of a flag have one type: "on" is a boolean, this is a string']);
  assert.deepEqual(problemsOf(file({ a: bool({ targeting: { if: [{ nope: [1] }, 'on', 'off'] } }) })), ['/flags/a/targeting/if/0/nope: unknown operator "nope"']);
  assert.deepEqual(problemsOf(file({ a: bool({ targeting: { $ref: 'missing' } }) })), ['/flags/a/targeting/$ref: no evaluator "missing" in /$evaluators (none defined)']);
  assert.deepEqual(problemsOf(file({ 'a/b': bool({ colour: 1 }) })), ['/flags/a~1b/colour: unknown key (expected state, variants, defaultVariant, targeting, metadata)']);
  assert.deepEqual(problemsOf(JSON.stringify({ flag: {} })), ['/flag: unknown key (expected $schema, flags, $evaluators, metadata)', '/flags: missing: the file needs a "flags" object']);
  assert.match(problemsOf('{"flags": {\n  "a": ,\n}}')[0] ?? '', /^: not JSON: Unexpected token/);
  assert.deepEqual(problemsOf(file({ a: bool() }, { $schema: 'https://flagd.dev/schema/v0/flags.json' })), []);
});

test('reasons: STATIC, TARGETING_MATCH, DEFAULT, DISABLED, and errors with their codes', () => {
  const set = parseFlagFile(
    file(
      {
        plain: bool(),
        targeted: bool({ targeting: { if: [{ starts_with: [{ var: 'email' }, 'admin@'] }, 'on', null] } }),
        shared: bool({ targeting: { $ref: 'staff' } }),
        dark: bool({ state: 'DISABLED' }),
        broken: bool({ targeting: { if: [{ '<': [{ var: 'tags' }, 3] }, 'on', 'off'] } }),
        wrong: bool({ targeting: { if: [true, 'purple', 'off'] } }),
        colour: { state: 'ENABLED', defaultVariant: 'red', variants: { red: '#f00', blue: '#00f' } },
      },
      { $evaluators: { staff: { if: [{ ends_with: [{ var: 'email' }, '@example.com'] }, 'on', 'off'] } } },
    ),
    'flags.json',
  );
  const pick = (e: Evaluation) => (isFailure(e) ? `${e.reason} ${e.errorCode}` : `${e.reason} ${e.variant} ${JSON.stringify(e.value)}`);
  assert.equal(pick(evaluateFlag(set, 'plain', {})), 'STATIC off false');
  assert.equal(pick(evaluateFlag(set, 'targeted', { email: 'admin@x.io' })), 'TARGETING_MATCH on true');
  assert.equal(pick(evaluateFlag(set, 'targeted', { email: 'bob@x.io' })), 'DEFAULT off false');
  assert.equal(pick(evaluateFlag(set, 'shared', { email: 'eve@example.com' })), 'TARGETING_MATCH on true');
  assert.equal(pick(evaluateFlag(set, 'dark', {})), 'DISABLED off false');
  assert.equal(pick(evaluateFlag(set, 'nothing', {})), 'ERROR FLAG_NOT_FOUND');
  assert.equal(pick(evaluateFlag(set, 'broken', { tags: ['a'] })), 'ERROR GENERAL');
  assert.equal(pick(evaluateFlag(set, 'wrong', {})), 'ERROR GENERAL');
  assert.equal(pick(evaluateFlag(set, 'colour', {}, undefined, 'boolean')), 'ERROR TYPE_MISMATCH');
  assert.equal(pick(evaluateFlag(set, 'colour', {}, undefined, 'string')), 'STATIC red "#f00"');
});

test('overrides: set wins over state and targeting; a rollout is sticky as its share grows', () => {
  const set = parseFlagFile(file({ f: bool({ state: 'DISABLED' }) }), 'flags.json');
  const on: FlagOverride = { kind: 'variant', variant: 'on' };
  const got = evaluateFlag(set, 'f', {}, on);
  assert.ok(!isFailure(got) && got.variant === 'on' && got.reason === 'STATIC');
  const rollout = (percent: number): FlagOverride => ({ kind: 'rollout', percent, on: 'on', off: 'off' });
  const keys = Array.from({ length: 5000 }, (_, i) => `client-${i}`);
  const onAt = (p: number) => new Set(keys.filter((k) => (evaluateFlag(set, 'f', { targetingKey: k }, rollout(p)) as { variant: string }).variant === 'on'));
  const ten = onAt(10);
  const fifty = onAt(50);
  assert.ok(ten.size > 400 && ten.size < 600, `about 10% of 5,000 keys on (${ten.size})`);
  assert.ok(fifty.size > 2300 && fifty.size < 2700, `about 50% on (${fifty.size})`);
  for (const k of ten) assert.ok(fifty.has(k), `${k} was inside 10% and must stay inside at 50%`);
  assert.equal(onAt(0).size, 0);
  assert.equal(onAt(100).size, keys.length);
  const noKey = evaluateFlag(set, 'f', {}, rollout(50));
  assert.ok(!isFailure(noKey) && noKey.variant === 'off' && noKey.reason === 'DEFAULT', 'no targeting key: not in the rollout');
});
