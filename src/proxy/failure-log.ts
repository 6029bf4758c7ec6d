import { coarseClock } from './clock.js';
import { failureDetail } from './failure.js';
import type { Upstream } from './types.js';

/** Writes one line to the agent log. */
export type LogLine = (line: string) => void;

/** The agent's stdout and stderr both go to logs/agent.log in the app's state dir; lines carry a timestamp like the agent's. */
export const agentLog: LogLine = (line) => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

/** One line per upstream per this long: a dead instance can fail thousands of requests a second. */
const EVERY_MS = 1_000;
/** An upstream quiet this long is forgotten, so removed instances do not pile up. */
const FORGET_MS = 60_000;

interface Recent {
  loggedAt: number;
  /** Failures since the last line, not written yet. */
  unlogged: number;
  upstream: Upstream;
}

/**
 * Requests the proxy answered with a 502/504 itself, in the agent log: the client is told only
 * that the app could not answer; which instance failed and how is written here, at most once a
 * second per instance with a count of the ones in between (timed by the 1 s sweep's clock).
 */
export class FailureLog {
  private readonly recent = new Map<string, Recent>();

  constructor(private readonly write: LogLine) {}

  report(upstream: Upstream, status: number, method: string, target: string, err: Error): void {
    const now = coarseClock.now;
    const recent = this.recent.get(upstream.id);
    if (recent !== undefined && now - recent.loggedAt < EVERY_MS) {
      recent.unlogged++;
      return;
    }
    const earlier = recent !== undefined && recent.unlogged > 0 ? ` (and ${recent.unlogged} more before)` : '';
    this.recent.set(upstream.id, { loggedAt: now, unlogged: 0, upstream });
    // The path only: a query string may carry a token.
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    this.write(`proxy: answered ${status} to ${method} ${path}: ${failureDetail(err, upstream)}${earlier}`);
  }

  /** Writes the counts of failures not logged yet and forgets quiet upstreams (the router's sweep). */
  sweep(now: number): void {
    for (const [id, recent] of this.recent) {
      if (recent.unlogged > 0 && now - recent.loggedAt >= EVERY_MS) {
        this.write(`proxy: ${recent.unlogged} more requests answered 502/504 for upstream ${id} at ${recent.upstream.host}:${recent.upstream.port}`);
        recent.loggedAt = now;
        recent.unlogged = 0;
      } else if (now - recent.loggedAt > FORGET_MS) {
        this.recent.delete(id);
      }
    }
  }
}
