import type { TLSSocket } from 'node:tls';
import type { ClientConnection, ClientExchange, RequestDispatcher } from '../proxy/client-connection.js';
import type { RequestHead } from '../proxy/http1/head.js';
import { hostName, misdirected } from './host-names.js';
import type { SniTable } from './sni-table.js';

/**
 * In front of the router on the HTTPS port: a request whose Host is not one of the app's
 * domains, or that came over a connection opened (SNI) for a name this port has no certificate
 * for, is answered 421 with the names served, instead of being handed to the app.
 */
export class HostGuard implements RequestDispatcher {
  private names = new Set<string>();
  private list: string[] = [];
  /** Strict-Transport-Security for the app's answers, when tls.hsts is on. */
  private hsts = '';

  constructor(
    private readonly next: RequestDispatcher,
    private readonly sni: SniTable,
  ) {}

  configure(domains: string[], hsts: boolean): void {
    this.list = [...domains];
    this.names = new Set(domains);
    // One year, the value browsers' preload lists ask for; subdomains are left to the user.
    this.hsts = hsts ? 'strict-transport-security: max-age=31536000\r\n' : '';
  }

  dispatch(client: ClientConnection, head: RequestHead): ClientExchange | null {
    const name = hostName(head.host);
    if (name === undefined || !this.names.has(name)) return this.refuse(client, name, 'Host header');
    const servername = (client.socket as TLSSocket).servername;
    if (typeof servername === 'string' && !this.sni.serves(servername)) return this.refuse(client, servername.toLowerCase(), 'TLS server name');
    client.responseHeaders = this.hsts;
    return this.next.dispatch(client, head);
  }

  private refuse(client: ClientConnection, asked: string | undefined, how: string): null {
    client.answer({ status: 421, body: misdirected(asked, this.list, how), tag: 'misdirected' });
    return null;
  }
}
