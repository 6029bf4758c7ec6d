import { Agent, request } from 'node:http';

/**
 * What load through an agent restart saw. Every request is counted once, in `ok` or `failed`.
 * A GET cut by a reset before any byte of its answer (the agent it reached was killed) is
 * sent once more on a fresh connection, as HTTP clients do for idempotent requests (browsers,
 * undici's RetryAgent); a refused connection is never retried: it is a failure, and counted.
 */
export interface RestartLoadReport {
  ok: number;
  failed: number;
  /** Connections refused (ECONNREFUSED): nobody held the port. */
  refused: number;
  /** Requests sent again after a reset before any answer byte. */
  retried: number;
  failures: Record<string, number>;
  /** The longest wait from sending a request (its first attempt) to the end of its answer. */
  maxWaitMs: number;
}

/**
 * Continuous GET load on 127.0.0.1: `keepAlive` workers reuse connections, `fresh` workers
 * open a new TCP connection for each request. Runs until stop(), bounded by `maxMs`; stop()
 * rejects when the load ran out before it was called (the test went on without load).
 */
export function startRestartLoad(url: string, workers: { keepAlive: number; fresh: number }, maxMs = 120_000) {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error('load tests only target 127.0.0.1');
  const keptAlive = new Agent({ keepAlive: true, maxSockets: workers.keepAlive });
  const report: RestartLoadReport = { ok: 0, failed: 0, refused: 0, retried: 0, failures: {}, maxWaitMs: 0 };
  const deadline = Date.now() + maxMs;
  let running = true;

  /** One attempt: the status code, or the error code of a transport failure. */
  const attempt = (agent: Agent | false) =>
    new Promise<{ status?: number; error?: string }>((resolve) => {
      const req = request({ host: target.hostname, port: target.port, path: '/', agent, headers: agent ? {} : { connection: 'close' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
        res.on('error', (err) => resolve({ error: `after headers: ${err.message}` }));
      });
      req.setTimeout(30_000, () => req.destroy(Object.assign(new Error('no answer within 30s'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      req.end();
    });

  const once = async (agent: Agent | false) => {
    const started = Date.now();
    let result = await attempt(agent);
    if (result.error === 'ECONNRESET' || result.error === 'EPIPE') {
      report.retried++;
      result = await attempt(false);
    }
    report.maxWaitMs = Math.max(report.maxWaitMs, Date.now() - started);
    if (result.status !== undefined && result.status >= 200 && result.status < 300) return void report.ok++;
    report.failed++;
    if (result.error === 'ECONNREFUSED') report.refused++;
    const key = result.error ?? `HTTP ${result.status}`;
    report.failures[key] = (report.failures[key] ?? 0) + 1;
  };

  const loop = async (agent: Agent | false) => {
    while (running && Date.now() < deadline) await once(agent);
  };
  const all = [...Array.from({ length: workers.keepAlive }, () => loop(keptAlive)), ...Array.from({ length: workers.fresh }, () => loop(false))];
  return {
    report,
    async stop(): Promise<RestartLoadReport> {
      const ranOut = Date.now() >= deadline;
      running = false;
      await Promise.all(all);
      keptAlive.destroy();
      if (ranOut) throw new Error(`the load on ${url} ran out after ${maxMs} ms, before the test stopped it: pass a longer maxMs (${JSON.stringify(report)})`);
      return report;
    },
  };
}
