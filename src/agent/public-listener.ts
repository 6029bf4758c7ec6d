import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describePortOwner } from '../gates/port.js';
import { UserError } from '../errors.js';

/** The public port the proxy serves on; can move to another port without dropping the old one first. */
export class PublicListener {
  private server: Server | null = null;
  private bound: { host: string; port: number } | null = null;

  constructor(private readonly createServer: () => Server) {}

  address(): { host: string; port: number } | null {
    return this.bound;
  }

  url(): string | null {
    return this.bound ? `http://${this.bound.host}:${this.bound.port}` : null;
  }

  /** Binds `host:port` (0 picks a free port); a no-op when already bound there. */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    if (this.bound && this.bound.host === host && (port === 0 || this.bound.port === port)) return this.bound;
    const server = this.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        const owner = describePortOwner(port);
        throw new UserError(`port ${port} on ${host} is already in use${owner ? ` by ${owner}` : ''}`, {
          fix: `stop that program or set proxy.port in ccom.yaml to a free port (0 picks one)`,
        });
      }
      if (err.code === 'EACCES') {
        throw new UserError(`not allowed to listen on port ${port}`, { fix: 'use a port above 1023 in proxy.port' });
      }
      throw err;
    });
    const previous = this.server;
    this.server = server;
    this.bound = { host, port: (server.address() as AddressInfo).port };
    // The old listener stops accepting but lets its open connections finish.
    if (previous) previous.close();
    return this.bound;
  }

  /**
   * Serves on a listening socket handed over by the previous agent: both accept on it until
   * the old one stops, so no connection is refused while agents change.
   */
  async adopt(handle: object, bound: { host: string; port: number }): Promise<void> {
    const server = this.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(handle, () => resolve());
    });
    this.server = server;
    this.bound = bound;
  }

  /** The listening server, to hand over to the next agent. */
  handle(): Server | null {
    return this.server;
  }

  /** Stops accepting; open connections finish their requests (idle ones are closed now). */
  async stopAccepting(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.bound = null;
    if (!server) return;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
