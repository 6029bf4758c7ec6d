import type { ConnectOptions, HttpsOptions } from '../targets/types.js';
import type { SharedPort } from '../tls/shared-port.js';
import type { PublicListener } from './public-listener.js';

/**
 * How long an agent leaving a port it shares keeps handing connections on after unregistering:
 * twice the registry poll (src/tls/shared-port.ts), so the other apps are already trying to bind
 * every 10 ms when the port goes free, instead of noticing up to a poll later.
 */
export const LEAVE_GRACE_MS = 200;

/**
 * The public HTTPS port when other apps with domains may share it by host name (see
 * src/tls/shared-port.ts). Loaded only by agents serving HTTPS; without domains the public
 * port is bound and served exactly as before.
 */
export class PublicPortShare {
  private share: SharedPort | null = null;

  constructor(
    private readonly listener: PublicListener,
    private readonly where: { appDir: string; stateDir: string },
    private readonly log: (message: string) => void,
  ) {}

  /** The shared port this app is registered on (bound by this agent or another's). */
  get port(): number | undefined {
    return this.share?.port;
  }

  /** This agent holds the port and hands other apps' connections on. */
  get handsOn(): boolean {
    return this.share?.handsOn === true;
  }

  /**
   * Binds the public port. With domains, names another app on the port already serves are
   * refused, and a port held by another app with domains is shared instead of failing.
   */
  async bind(options: ConnectOptions): Promise<{ host: string; port: number }> {
    const { host, port } = options.proxy;
    if (!options.https) return this.listener.listen(host, port);
    const { otherApps, overlapProblem } = await import('../tls/port-registry.js');
    const overlap = overlapProblem(port, options.app, options.https.domains) ?? overlapProblem(options.https.httpPort, options.app, options.https.domains);
    if (overlap) throw overlap;
    try {
      return await this.listener.listen(host, port);
    } catch (err) {
      const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      if (port === 0 || code !== 'EADDRINUSE' || otherApps(port, options.app).length === 0) throw err;
      return { host, port };
    }
  }

  /** Registers this app's names on the port (null: HTTPS is off, leave it). */
  async configure(https: HttpsOptions | null, bound: { host: string; port: number }, app: string): Promise<void> {
    if (this.share && (!https || this.share.port !== bound.port)) await this.close();
    if (!https || bound.port === 0) return;
    const { SharedPort } = await import('../tls/shared-port.js');
    this.share ??= new SharedPort({
      port: bound.port,
      kind: 'tls',
      app,
      dir: this.where.appDir,
      stateDir: this.where.stateDir,
      local: (socket) => this.listener.serve(socket),
      bind: async () => void (await this.listener.listen(bound.host, bound.port, { quiet: true })),
      onOwner: (front) => this.listener.useFront(front),
      log: this.log,
    });
    await this.share.configure(https.domains, this.listener.address()?.port === bound.port);
  }

  async close(): Promise<void> {
    await this.leave();
    this.listener.useFront(null);
  }

  /** Unregisters, but keeps handing the other apps' connections on until this agent exits (`down`). */
  async leave(): Promise<void> {
    await this.share?.close();
    this.share = null;
  }
}
