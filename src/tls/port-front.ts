import type { Socket } from 'node:net';
import { MAX_PEEK_BYTES, sniFromClientHello, type Peeked } from './client-hello.js';
import { handOff } from './handoff.js';
import { registeredApps, type PortEntry } from './port-registry.js';
import { hostOfFirstRequest } from './request-host.js';

/** As long as the TLS terminator gives a handshake: a client that sends nothing holds a socket no longer. */
const PEEK_TIMEOUT_MS = 10_000;
/** A restarting agent's handoff socket is back within about a second; the client waits, as in the kernel's backlog. */
const HANDOFF_RETRY_MS = 100;
const HANDOFF_PATIENCE_MS = 5_000;

/** How the first bytes of a connection name the site: TLS (SNI) or plain HTTP (Host). */
export type PortKind = 'tls' | 'http';

/**
 * The owner's side of a shared port: reads the name a connection asks for from its first bytes,
 * then serves it here (`local`, the bytes put back) or hands it to the app whose name it is.
 * A name nobody registered is served here, where the host guard answers 421.
 */
export class PortFront {
  private others = new Map<string, PortEntry>();
  private ownNames = new Set<string>();

  constructor(
    private readonly port: number,
    private readonly app: string,
    private readonly kind: PortKind,
    private readonly local: (socket: Socket) => void,
    private readonly log: (message: string) => void,
  ) {}

  setOwnDomains(domains: string[]): void {
    this.ownNames = new Set(domains);
  }

  /**
   * Re-reads the registry: called periodically and whenever a name is not known. An app whose
   * agent is not running keeps its names (its guardian is starting it again): its clients wait
   * for it rather than meet this app's certificate.
   */
  refresh(): void {
    const names = new Map<string, PortEntry>();
    for (const entry of registeredApps(this.port)) {
      if (entry.app === this.app || entry.domains.length === 0) continue;
      for (const name of entry.domains) if (!this.ownNames.has(name)) names.set(name, entry);
    }
    this.others = names;
  }

  /** Other apps are registered: connections must be looked at before anyone serves them. */
  get shared(): boolean {
    return this.others.size > 0;
  }

  accept(socket: Socket): void {
    if (!this.shared) return this.local(socket);
    let bytes: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), PEEK_TIMEOUT_MS);
    const parse = this.kind === 'tls' ? sniFromClientHello : hostOfFirstRequest;
    const onData = (chunk: Buffer) => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
      const peeked: Peeked = bytes.length > MAX_PEEK_BYTES ? { kind: 'invalid' } : parse(bytes);
      if (peeked.kind === 'more') return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      this.route(socket, bytes, peeked.kind === 'done' ? peeked.name : undefined);
    };
    const onEnd = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    // A client gone while it is looked at or handed on must not be an unhandled error.
    socket.on('error', () => {
      clearTimeout(timer);
      socket.destroy();
    });
  }

  private route(socket: Socket, bytes: Buffer, name: string | undefined): void {
    if (name === undefined || this.ownNames.has(name)) return this.serveHere(socket, bytes);
    if (!this.others.has(name)) this.refresh();
    const entry = this.others.get(name);
    if (!entry) return this.serveHere(socket, bytes);
    this.handTo(socket, bytes, name, Date.now() + HANDOFF_PATIENCE_MS);
  }

  private serveHere(socket: Socket, bytes: Buffer): void {
    socket.unshift(bytes);
    this.local(socket);
  }

  /** Its agent restarting: try again (at the socket it registers when back) until the deadline; its app gone down meanwhile: served here (421). */
  private handTo(socket: Socket, bytes: Buffer, name: string, deadline: number): void {
    const entry = this.others.get(name);
    if (!entry) return this.serveHere(socket, bytes);
    handOff(socket, entry.socket, bytes, (err) => {
      if (socket.destroyed) return;
      if (Date.now() > deadline) {
        this.log(`could not hand a connection for ${name} to the ccom app "${entry.app}" (${err.message}): closed it`);
        return void socket.destroy();
      }
      setTimeout(() => {
        this.refresh();
        this.handTo(socket, bytes, name, deadline);
      }, HANDOFF_RETRY_MS);
    });
  }
}
