/**
 * A clock read on every request but updated only by the proxy's 1 s sweeps: timeouts measured
 * in tens of seconds need no per-request Date.now() or timer refresh.
 */
export const coarseClock = { now: Date.now() };

export function tick(): number {
  coarseClock.now = Date.now();
  return coarseClock.now;
}
