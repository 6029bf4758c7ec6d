import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { Verdict } from '../src/analysis/judge.js';
import { LatencyConfirmation, type ConfirmOptions } from '../src/strategies/latency-confirm.js';

/**
 * The confirmation of a latency verdict, driven by a scripted series of windows (one every
 * 500 ms of a mocked clock): each window is the verdict the judge gave it and its median ratio.
 */
interface Window {
  verdict: Verdict;
  ratio: number;
}

const slow = (share: number, ratio: number): Window => ({ verdict: { kind: 'fail', metric: 'latency-ratio', message: `${ratio}× slower`, slowerShare: share }, ratio });
const even: Window = { verdict: { kind: 'pass', message: 'even' }, ratio: 1 };

/** Feeds windows until the confirmation decides; returns its decision and the mocked time it took. */
function confirmOver(windows: Window[], options?: ConfirmOptions): { kind: string; afterMs: number } {
  mock.timers.enable({ apis: ['Date'], now: 0 });
  try {
    let i = 0;
    const confirmation = new LatencyConfirmation<number, Window>(0, {
      since: () => windows[Math.min(i, windows.length - 1)]!,
      judge: (w) => w.verdict,
      enough: () => true,
      medianRatio: (w) => w.ratio,
    }, options);
    for (; i < windows.length; i++) {
      mock.timers.tick(500);
      const decision = confirmation.check(i);
      if (decision.kind === 'fail' || decision.kind === 'cleared') return { kind: decision.kind, afterMs: Date.now() };
    }
    return { kind: 'undecided', afterMs: Date.now() };
  } finally {
    mock.timers.reset();
  }
}

test('a release slower in every request pair fails after two windows, about a second', () => {
  assert.deepEqual(confirmOver(Array(30).fill(slow(1, 3))), { kind: 'fail', afterMs: 1000 });
});

test('a partial shift must show in every window for 10 s; one window that passes clears it', () => {
  assert.deepEqual(confirmOver(Array(30).fill(slow(0.7, 1.6))), { kind: 'fail', afterMs: 10_000 });
  assert.deepEqual(confirmOver([...Array(8).fill(slow(0.7, 1.6)), even]), { kind: 'cleared', afterMs: 4500 });
});

test('after a step-up even a clear shift needs 10 s, and a fresh process that catches up is cleared', () => {
  assert.deepEqual(confirmOver(Array(30).fill(slow(1, 12)), { stepUp: true }), { kind: 'fail', afterMs: 10_000 });
  // What CI saw at a 50% step: 4–12× for 2–3 s, then even.
  assert.deepEqual(confirmOver([...Array(6).fill(slow(1, 12)), even], { stepUp: true }), { kind: 'cleared', afterMs: 3500 });
});
