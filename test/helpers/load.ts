import { Agent, request } from 'node:http';

export interface LoadReport {
  total: number;
  failed: number;
  /** Non-2xx statuses and transport errors, with counts. */
  failures: Record<string, number>;
  /** Responses per body prefix (e.g. "ok v3"), to see traffic move between releases. */
  bodies: Record<string, number>;
}

/**
 * Continuous HTTP load on a URL (127.0.0.1 only) from `concurrency` keep-alive clients until
 * stop() is called, counting every response. Bounded by `maxMs` so it always stops by itself;
 * stop() then rejects, because the test went on without the load it asserts about (mixed-load's
 * last canary once got no live traffic on a busy machine: its load had ended at 120 s).
 */
export function startLoad(url: string, concurrency: number, maxMs = 120_000): { stop(): Promise<LoadReport>; failedSoFar(): Record<string, number> } {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost') throw new Error('load tests only target 127.0.0.1');
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const report: LoadReport = { total: 0, failed: 0, failures: {}, bodies: {} };
  let running = true;
  const deadline = Date.now() + maxMs;
  const count = (bucket: Record<string, number>, key: string) => (bucket[key] = (bucket[key] ?? 0) + 1);

  const once = () =>
    new Promise<void>((resolve) => {
      const req = request({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          report.total++;
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            report.failed++;
            count(report.failures, `HTTP ${status}: ${body.slice(0, 60)}`);
          } else {
            count(report.bodies, body.slice(0, 40));
          }
          resolve();
        });
        res.on('error', (err) => {
          report.total++;
          report.failed++;
          count(report.failures, err.message);
          resolve();
        });
      });
      req.on('error', (err) => {
        report.total++;
        report.failed++;
        count(report.failures, (err as NodeJS.ErrnoException).code ?? err.message);
        resolve();
      });
      req.end();
    });

  const workers = Array.from({ length: concurrency }, async () => {
    while (running && Date.now() < deadline) await once();
  });
  return {
    async stop() {
      const ranOut = Date.now() >= deadline;
      running = false;
      await Promise.all(workers);
      agent.destroy();
      if (ranOut) throw new Error(`the load on ${url} ran out after ${maxMs} ms, before the test stopped it: pass startLoad a longer maxMs (${JSON.stringify(report)})`);
      return report;
    },
    /** Failures so far, to tell which moment of a test they belong to. */
    failedSoFar: () => ({ ...report.failures }),
  };
}
