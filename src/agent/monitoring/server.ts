import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * The admin listener on 127.0.0.1: `/metrics` in Prometheus text format. A port that is
 * taken is reported, not fatal: the app keeps serving, and `ccom doctor` names the problem.
 */
/** How many ports after the default one are tried when it is taken. */
const FALLBACK_PORTS = 100;

export class MonitoringServer {
  private server: Server | null = null;
  private port: number | null = null;
  problem: string | null = null;

  private registry: Promise<Registry> | undefined;
  private app = 'unknown';

  /** `createRegistry` runs at the first scrape: an agent nobody scrapes never loads prom-client. */
  constructor(private readonly createRegistry: () => Promise<Registry>) {}

  /** Every series carries the app's name, known once a deploy configured the agent. */
  setApp(app: string): void {
    this.app = app;
    void this.registry?.then((r) => r.setDefaultLabels({ app }));
  }

  private metrics(): Promise<{ text: string; contentType: string }> {
    this.registry ??= this.createRegistry().then((r) => {
      r.setDefaultLabels({ app: this.app });
      return r;
    });
    return this.registry.then(async (r) => ({ text: await r.metrics(), contentType: r.contentType }));
  }

  url(): string | null {
    return this.port === null ? null : `http://127.0.0.1:${this.port}/metrics`;
  }

  /**
   * Serves on `port`. With `orNextFree` (the port is ccom's default, not the user's choice) a
   * taken port moves to the next free one of the following 100, so several apps on one machine
   * are all monitored; `ccom status` shows where.
   */
  async listen(port: number, orNextFree = false): Promise<void> {
    if (this.server && (port === 0 || port === this.port)) return;
    if (this.server && orNextFree && this.port !== null && this.port > port && this.port <= port + FALLBACK_PORTS) return;
    const candidates = orNextFree && port !== 0 ? Array.from({ length: FALLBACK_PORTS + 1 }, (_, i) => port + i).filter((p) => p <= 65_535) : [port];
    let lastError: unknown;
    for (const candidate of candidates) {
      const server = this.createHttpServer();
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(candidate, '127.0.0.1', () => resolve());
        });
      } catch (err) {
        lastError = err;
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
        break;
      }
      // Accept failures (EMFILE at the open-files limit) must not end the agent: it keeps listening.
      server.on('error', () => undefined);
      await this.close();
      this.server = server;
      this.port = (server.address() as AddressInfo).port;
      this.problem = null;
      return;
    }
    const taken = (lastError as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
    const where = candidates.length > 1 ? `ports ${port}–${candidates[candidates.length - 1]}` : `monitoring port ${port}`;
    this.problem = `${where} on 127.0.0.1: ${taken ? 'already in use' : (lastError as Error).message}`;
  }

  private createHttpServer(): Server {
    const server = createServer((req, res) => {
      if (req.url === '/metrics') {
        this.metrics()
          .then(({ text, contentType }) => {
            res.writeHead(200, { 'content-type': contentType });
            res.end(text);
          })
          .catch((err: Error) => {
            res.writeHead(500);
            res.end(`metrics failed: ${err.message}\n`);
          });
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('ccom agent: try /metrics\n');
    });
    return server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.port = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
