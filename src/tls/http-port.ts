import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { UserError } from '../errors.js';
import { describePortOwner } from '../gates/port.js';
import type { ChallengeAnswers } from './challenge-answers.js';
import { hostName, httpsUrl, misdirected } from './host-names.js';

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** What the plain-HTTP port redirects to and answers for. */
export interface PlainHttpSite {
  domains: string[];
  /** The HTTPS port a redirect names. */
  httpsPort: number;
}

/**
 * The plain-HTTP port next to the HTTPS one: answers ACME http-01 challenges, sends every
 * other request for one of the domains to https with a 308 (method and body kept), and gives
 * any other name a 421. Nothing here reaches the app: an http:// link is never served in clear.
 */
export class PlainHttpPort {
  /** Never listens itself: the acceptor (or a shared port's owner, through a handoff) gives it connections. */
  private readonly http: Server;
  private acceptor: NetServer | null = null;
  private bound: { host: string; port: number } | null = null;
  /** On a port shared by host name, whoever is bound looks at each connection first. */
  private front: { shared: boolean; accept(socket: Socket): void } | null = null;
  site: PlainHttpSite = { domains: [], httpsPort: 443 };

  constructor(private readonly challenges: ChallengeAnswers) {
    this.http = createServer({ keepAliveTimeout: 5_000, headersTimeout: 10_000, requestTimeout: 10_000 }, (req, res) => this.answer(req, res));
    // Its timeouts start on 'listening', which only the acceptor sees.
    this.http.emit('listening');
  }

  address(): { host: string; port: number } | null {
    return this.bound;
  }

  /** A connection accepted here or handed over by a shared port's owner (its bytes may be put back). */
  serve(socket: Socket): void {
    this.http.emit('connection', socket);
    socket.resume();
  }

  useFront(front: { shared: boolean; accept(socket: Socket): void } | null): void {
    this.front = front;
  }

  /** `quiet`: a taken port is not described (that scans /proc), for attempts repeated every few milliseconds. */
  async listen(host: string, port: number, opts: { quiet?: boolean } = {}): Promise<void> {
    if (this.bound && this.bound.host === host && (port === 0 || this.bound.port === port)) return;
    const acceptor = new NetServer((socket) => (this.front?.shared ? this.front.accept(socket) : this.serve(socket)));
    await new Promise<void>((resolve, reject) => {
      acceptor.once('error', reject);
      acceptor.listen(port, host, () => {
        acceptor.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      throw portProblem(err, host, port, opts.quiet === true);
    });
    const previous = this.acceptor;
    this.acceptor = acceptor;
    this.bound = { host, port: (acceptor.address() as AddressInfo).port };
    previous?.close();
    this.http.closeIdleConnections();
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    if (path.startsWith(CHALLENGE_PREFIX)) {
      const answer = this.challenges.get(path.slice(CHALLENGE_PREFIX.length));
      res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(answer ?? 'no such challenge\n');
      return;
    }
    const name = hostName(req.headers.host);
    if (name === undefined || !this.site.domains.includes(name)) {
      res.writeHead(421, { 'content-type': 'text/plain', 'x-ccom': 'misdirected' });
      res.end(misdirected(name, this.site.domains, 'Host header'));
      return;
    }
    res.writeHead(308, { location: `${httpsUrl(name, this.site.httpsPort)}${path.startsWith('/') ? path : `/${path}`}`, 'content-length': '0' });
    res.end();
  }

  async close(): Promise<void> {
    const acceptor = this.acceptor;
    this.acceptor = null;
    this.bound = null;
    this.http.closeAllConnections();
    if (acceptor) await new Promise<void>((resolve) => acceptor.close(() => resolve()));
  }
}

function portProblem(err: NodeJS.ErrnoException, host: string, port: number, quiet: boolean): Error {
  if (err.code === 'EADDRINUSE') {
    const owner = quiet ? undefined : describePortOwner(port);
    return new UserError(`proxy.httpPort ${port} on ${host} is already in use${owner ? ` by ${owner}` : ''}`, {
      fix: 'stop that program (ccom answers certificate challenges and redirects to https on this port) or set proxy.httpPort to a free port',
      cause: err,
    });
  }
  if (err.code === 'EACCES') {
    return new UserError(`not allowed to listen on port ${port} (proxy.httpPort)`, {
      fix: 'let node bind low ports (sudo setcap cap_net_bind_service=+ep "$(command -v node)") or forward 80 to a port above 1023 and set proxy.httpPort to it',
    });
  }
  return err;
}
