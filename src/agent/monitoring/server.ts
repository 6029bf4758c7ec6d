import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * The admin listener on 127.0.0.1: `/metrics` in Prometheus text format. A port that is
 * taken is reported, not fatal: the app keeps serving, and `ccom doctor` names the problem.
 */
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

  async listen(port: number): Promise<void> {
    if (this.server && (port === 0 || port === this.port)) return;
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
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
    } catch (err) {
      this.problem = `monitoring port ${port} on 127.0.0.1: ${(err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'already in use' : (err as Error).message}`;
      return;
    }
    await this.close();
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.problem = null;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.port = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
