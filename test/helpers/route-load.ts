import { Agent, request } from 'node:http';

export interface RouteLoadReport {
  /** Requests sent, per path. */
  total: Record<string, number>;
  /** Failures per "<path> HTTP <status>: <body start>" or "<path> <transport error>". */
  failures: Record<string, number>;
}

/**
 * Continuous keep-alive load from `concurrency` clients on 127.0.0.1, taking `paths` in turn,
 * so a bad release of one route is seen beside the routes that still work. Stops by itself
 * after `maxMs` (stop() then rejects: the test went on without its load). With `pauseMs` each client waits that long between its requests: a steady
 * load that leaves the CPU to a build running in the same deploy.
 */
export function startRouteLoad(base: string, paths: string[], concurrency: number, maxMs = 180_000, pauseMs = 0): { stop(): Promise<RouteLoadReport> } {
  const target = new URL(base);
  if (target.hostname !== '127.0.0.1') throw new Error('load tests only target 127.0.0.1');
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const report: RouteLoadReport = { total: {}, failures: {} };
  const count = (bucket: Record<string, number>, key: string) => (bucket[key] = (bucket[key] ?? 0) + 1);
  const deadline = Date.now() + maxMs;
  let running = true;
  let next = 0;

  const once = (path: string) =>
    new Promise<void>((resolve) => {
      count(report.total, path);
      const req = request({ host: target.hostname, port: target.port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 400) count(report.failures, `${path} HTTP ${status}: ${body.slice(0, 40)}`);
          resolve();
        });
        res.on('error', (err) => {
          count(report.failures, `${path} ${err.message}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        count(report.failures, `${path} ${(err as NodeJS.ErrnoException).code ?? err.message}`);
        resolve();
      });
      req.end();
    });

  const workers = Array.from({ length: concurrency }, async () => {
    while (running && Date.now() < deadline) {
      await once(paths[next++ % paths.length]!);
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  });
  return {
    async stop() {
      const ranOut = Date.now() >= deadline;
      running = false;
      await Promise.all(workers);
      agent.destroy();
      if (ranOut) throw new Error(`the load on ${base} ran out after ${maxMs} ms, before the test stopped it: pass a longer maxMs (${JSON.stringify(report)})`);
      return report;
    },
  };
}
