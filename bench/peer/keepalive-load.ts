import { Agent, get } from 'node:http';

/** Everything the load loop saw: every request either succeeded (2xx, full body) or failed. */
export interface LoadTally {
  ok: number;
  failed: number;
  /** Failure kinds: `HTTP <status>` or the error code (ECONNRESET, ECONNREFUSED, timeout…). */
  reasons: Record<string, number>;
  /** Epoch ms of each failure, to attribute failures to the switch they happened in. */
  failureTimes: number[];
  elapsedMs: number;
}

export interface RunningLoad {
  stop(): Promise<LoadTally>;
}

/** A request that has not answered in this long counts as failed (a switch must not hang clients). */
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Closed-loop load: `connections` keep-alive connections, each sending the next GET as soon as the
 * previous answered, like wrk or a busy client behind a load balancer. Nothing is retried: a reset
 * on a reused connection counts as a failure, as the client would see it.
 */
export function startKeepAliveLoad(url: string, connections: number): RunningLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const tally: LoadTally = { ok: 0, failed: 0, reasons: {}, failureTimes: [], elapsedMs: 0 };
  const started = performance.now();
  let running = true;

  const fail = (reason: string) => {
    tally.failed++;
    tally.reasons[reason] = (tally.reasons[reason] ?? 0) + 1;
    tally.failureTimes.push(Date.now());
  };

  const one = () =>
    new Promise<void>((resolve) => {
      let settled = false;
      const settle = (reason?: string) => {
        if (settled) return;
        settled = true;
        if (reason === undefined) tally.ok++;
        else fail(reason);
        resolve();
      };
      const req = get(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const status = res.statusCode ?? 0;
        res.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
        res.on('aborted', () => settle('aborted mid-response'));
        res.on('end', () => settle(status >= 200 && status < 300 ? undefined : `HTTP ${status}`));
        res.resume();
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
    });

  const worker = async () => {
    while (running) await one();
  };
  const workers = Promise.all(Array.from({ length: connections }, worker));

  return {
    async stop() {
      running = false;
      await workers;
      tally.elapsedMs = performance.now() - started;
      agent.destroy();
      return tally;
    },
  };
}
