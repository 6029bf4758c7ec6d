import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlagdCore } from '@openfeature/flagd-core';
import { parseFlagFile } from '../src/flags/definitions.js';
import { evaluateFlag, isFailure } from '../src/flags/evaluate.js';
import { murmur3 } from '../src/flags/murmur3.js';

/**
 * ccom's evaluator against flagd's own JS evaluator (@openfeature/flagd-core, a pinned dev
 * dependency): a corpus of `fractional` and `sem_ver` rules (and the JsonLogic around them)
 * must give every targeting key the same variant and reason.
 */
const corpus = {
  flags: {
    'half': { state: 'ENABLED', defaultVariant: 'off', variants: { on: true, off: false }, targeting: { fractional: [['on', 50], ['off', 50]] } },
    'ten-percent': { state: 'ENABLED', defaultVariant: 'off', variants: { on: true, off: false }, targeting: { fractional: [['on', 10], ['off', 90]] } },
    'three-way': { state: 'ENABLED', defaultVariant: 'red', variants: { red: 'r', green: 'g', blue: 'b' }, targeting: { fractional: [['red', 33], ['green', 33], ['blue', 34]] } },
    'uneven': { state: 'ENABLED', defaultVariant: 'a', variants: { a: 1, b: 2, c: 3, d: 4 }, targeting: { fractional: [['a', 1], ['b', 7], ['c', 191], ['d', 9801]] } },
    'equal-weights': { state: 'ENABLED', defaultVariant: 'x', variants: { x: 'x', y: 'y', z: 'z' }, targeting: { fractional: [['x'], ['y'], ['z']] } },
    'by-email': { state: 'ENABLED', defaultVariant: 'off', variants: { on: true, off: false }, targeting: { fractional: [{ var: 'email' }, ['on', 25], ['off', 75]] } },
    'by-cat': { state: 'ENABLED', defaultVariant: 'off', variants: { on: true, off: false }, targeting: { fractional: [{ cat: [{ var: '$flagd.flagKey' }, '-', { var: 'org' }] }, ['on', 40], ['off', 60]] } },
    'big-weights': { state: 'ENABLED', defaultVariant: 'off', variants: { on: true, off: false }, targeting: { fractional: [['on', 1_000_000_000], ['off', 1_147_483_647]] } },
    'fractional-in-if': {
      state: 'ENABLED', defaultVariant: 'off', variants: { on: true, off: false },
      targeting: { if: [{ ends_with: [{ var: 'email' }, '@example.com'] }, 'on', { fractional: [['on', 20], ['off', 80]] }] },
    },
    'zero-weight': { state: 'ENABLED', defaultVariant: 'off', variants: { on: true, off: false }, targeting: { fractional: [['on', 0], ['off', 100]] } },
    'semver-gte': { state: 'ENABLED', defaultVariant: 'old', variants: { new: 'new', old: 'old' }, targeting: { if: [{ sem_ver: [{ var: 'version' }, '>=', '2.1.0'] }, 'new', 'old'] } },
    'semver-caret': { state: 'ENABLED', defaultVariant: 'old', variants: { new: 'new', old: 'old' }, targeting: { if: [{ sem_ver: [{ var: 'version' }, '^', '2.0.0'] }, 'new', 'old'] } },
    'semver-tilde': { state: 'ENABLED', defaultVariant: 'old', variants: { new: 'new', old: 'old' }, targeting: { if: [{ sem_ver: [{ var: 'version' }, '~', '2.1.0'] }, 'new', 'old'] } },
    'semver-lt': { state: 'ENABLED', defaultVariant: 'old', variants: { new: 'new', old: 'old' }, targeting: { if: [{ sem_ver: [{ var: 'version' }, '<', '2.1.0-rc.2'] }, 'new', 'old'] } },
    'semver-eq': { state: 'ENABLED', defaultVariant: 'old', variants: { new: 'new', old: 'old' }, targeting: { if: [{ sem_ver: [{ var: 'version' }, '=', '2.1'] }, 'new', null] } },
    'semver-ne': { state: 'ENABLED', defaultVariant: 'old', variants: { new: 'new', old: 'old' }, targeting: { if: [{ sem_ver: [{ var: 'version' }, '!=', '1.0.0'] }, 'new', 'old'] } },
    'semver-gt-and-fraction': {
      state: 'ENABLED', defaultVariant: 'old', variants: { new: 'new', old: 'old' },
      targeting: { if: [{ and: [{ sem_ver: [{ var: 'version' }, '>', '1.9.9'] }, { starts_with: [{ var: 'email' }, 'a'] }] }, { fractional: [['new', 50], ['old', 50]] }, 'old'] },
    },
    'basics': {
      state: 'ENABLED', defaultVariant: 'none', variants: { none: 'none', vip: 'vip', staff: 'staff', many: 'many' },
      targeting: {
        if: [
          { in: [{ var: 'email' }, ['a1@example.com', 'b7@example.org']] }, 'vip',
          { in: ['@example.org', { var: 'email' }] }, 'staff',
          { and: [{ '>=': [{ var: 'seats' }, 10] }, { '!': { '==': [{ var: 'plan' }, 'free'] } }] }, 'many',
          null,
        ],
      },
    },
  },
};

const versions = ['0.9.0', '1.0.0', 'v1.0.0', '1.9.9', '2.0.0', '2.0.0-alpha', '2.0.0-alpha.1', '2.0.0-beta', '2.1.0-rc.1', '2.1.0-rc.2', '2.1.0', '2.1', '2', '2.1.7+build.5', '2.2.0', '3.0.0', 'V3.1.4', 'not-a-version', '2.0.0.0', '10.0.0'];
const plans = ['free', 'team', 'enterprise'];

function contexts(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 1200; i++) {
    out.push({
      targetingKey: i % 3 === 0 ? `user-${i}` : i % 3 === 1 ? String(i * 7919) : `${(i * 2654435761) >>> 0}-sess`,
      email: `${String.fromCharCode(97 + (i % 26))}${i}@example.${i % 5 === 0 ? 'org' : 'com'}`,
      org: `org-${i % 37}`,
      version: versions[i % versions.length],
      seats: i % 23,
      plan: plans[i % 3],
    });
  }
  out.push({}, { email: 'a1@example.com' }, { targetingKey: '' }, { targetingKey: 'x', version: 2 });
  return out;
}

test('every targeting key gets the variant and reason flagd-core gives, for fractional, sem_ver and basic rules', () => {
  const text = JSON.stringify(corpus);
  const ours = parseFlagFile(text, 'flags.json');
  const flagd = new FlagdCore();
  flagd.setConfigurations(text);
  let compared = 0;
  const mismatches: string[] = [];
  const onShare = { on: 0, all: 0 };
  for (const [key, def] of Object.entries(corpus.flags)) {
    const type = typeof Object.values(def.variants)[0] as 'boolean' | 'string' | 'number';
    for (const ctx of contexts()) {
      const mine = evaluateFlag(ours, key, ctx);
      const theirs = flagd.resolve(type, key, type === 'boolean' ? false : type === 'number' ? -1 : 'fallback', ctx as never);
      compared++;
      const mineVariant = isFailure(mine) ? undefined : mine.variant;
      if (mineVariant !== theirs.variant || mine.reason !== theirs.reason) {
        mismatches.push(`${key} ${JSON.stringify(ctx)}: ccom ${mineVariant}/${mine.reason}, flagd-core ${theirs.variant}/${theirs.reason}`);
      }
      if (key === 'ten-percent' && typeof ctx.targetingKey === 'string' && ctx.targetingKey) {
        onShare.all++;
        if (mineVariant === 'on') onShare.on++;
      }
    }
  }
  assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} of ${compared} evaluations differ`);
  assert.ok(compared > 20_000, `a corpus that means something (${compared})`);
  // The corpus exercises the split, not just one side of it.
  const share = onShare.on / onShare.all;
  assert.ok(share > 0.07 && share < 0.13, `about 10% on at a 10% fractional (${(share * 100).toFixed(1)}%)`);
});

test('murmur3 is the reference MurmurHash3 x86_32 over UTF-8 bytes (seed 0)', () => {
  // Values of Austin Appleby's C++ reference (the UTF-8 encoded string as input).
  assert.equal(murmur3(''), 0);
  assert.equal(murmur3('hello'), 613153351);
  assert.equal(murmur3('My hovercraft is full of eels.'), 2953494853);
  assert.equal(murmur3('My 🚀 is full of 🦎.'), 1818098979);
  assert.equal(murmur3('吉 星 高 照'), 3435142074);
});
