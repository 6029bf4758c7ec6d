import type { Verdict } from '../analysis/judge.js';

/**
 * A latency regression is confirmed in windows of at least this long after the first failing
 * verdict, each judged on its own requests: 20 requests of a busy app arrive in 20 ms, so a
 * window is measured in time, not only in requests.
 */
const WINDOW_MS = 500;
/** Consecutive failing windows that confirm a regression that is not fading. */
const WINDOWS_TO_FAIL = 2;
/** A window whose median ratio fell by more than this is a release catching up, not a regression. */
const FADING = 0.85;
/** However it fades, a regression that still shows this long after the first verdict fails. */
const FADE_LIMIT_MS = 10_000;
/**
 * A shift of only part of the requests (slower in fewer than this share of request pairs) is
 * what a fresh process looks like while it catches up: it fails only once it has shown in
 * every window for FADE_LIMIT_MS. A release slower across the board (3× slower is slower in
 * every pair) fails after WINDOWS_TO_FAIL windows, about a second.
 */
const CLEAR_SHIFT = 0.9;

export interface ConfirmOptions {
  /**
   * The step raised the new release's share (10% → 50%): every latency shift then needs
   * FADE_LIMIT_MS. A release slow under any load was already caught at the first step within
   * about a second; what a step-up shows first is a fresh process adapting to more load, which
   * on a busy 2-core machine looked like 4–12× the stable release for 2–3 s (CI, 2026-12-02).
   */
  stepUp?: boolean;
}

export type Confirmation =
  | { kind: 'fail'; message: string }
  | { kind: 'cleared'; message: string }
  | { kind: 'wait' }
  /** The window is old enough but short of requests to judge. */
  | { kind: 'short' };

/**
 * Confirms or clears a latency verdict. A fresh Node process given a larger share of the load
 * is slower for a few seconds while its JIT and heap catch up (measured here: 1.7× the stable
 * release's median for about 5 s after a step from 10% to 50%, then even); a slow release
 * stays slow. So a clear regression must show in WINDOWS_TO_FAIL windows in a row without
 * fading; one that fades, or shifts only part of the requests, gets up to FADE_LIMIT_MS to clear.
 */
export class LatencyConfirmation<Mark, Window> {
  private readonly firstAt = Date.now();
  private windowStart: { at: number; mark: Mark };
  private failed = 0;
  private lastRatio: number | undefined;

  constructor(
    start: Mark,
    private readonly windows: {
      /** The requests since `mark`. */
      since(mark: Mark): Window;
      judge(window: Window): Verdict;
      enough(window: Window): boolean;
      /** The new release's median latency over the stable one's in the window. */
      medianRatio(window: Window): number;
    },
    private readonly options: ConfirmOptions = {},
  ) {
    this.windowStart = { at: Date.now(), mark: start };
  }

  /** Called on every tick while the step's verdict fails on latency; `now` marks this moment. */
  check(now: Mark): Confirmation {
    const at = Date.now();
    if (at - this.windowStart.at < WINDOW_MS) return { kind: 'wait' };
    const window = this.windows.since(this.windowStart.mark);
    if (!this.windows.enough(window)) return { kind: 'short' };
    const verdict = this.windows.judge(window);
    this.windowStart = { at, mark: now };
    if (verdict.kind !== 'fail') return { kind: 'cleared', message: verdict.message };
    this.failed++;
    const ratio = this.windows.medianRatio(window);
    const fading = this.lastRatio !== undefined && ratio < this.lastRatio * FADING;
    this.lastRatio = ratio;
    const partial = verdict.kind === 'fail' && verdict.slowerShare !== undefined && verdict.slowerShare < CLEAR_SHIFT;
    const patient = partial || this.options.stepUp === true;
    if (this.failed >= WINDOWS_TO_FAIL && !fading && !patient) return { kind: 'fail', message: `${verdict.message}, in ${this.failed + 1} consecutive windows` };
    if (at - this.firstAt >= FADE_LIMIT_MS) return { kind: 'fail', message: `${verdict.message}, still after ${Math.round((at - this.firstAt) / 1000)}s` };
    return { kind: 'wait' };
  }

  /** How long the regression has been seen, for a step that waits past its end. */
  get ageMs(): number {
    return Date.now() - this.firstAt;
  }
}
