import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificatePair } from './cert-store.js';

/**
 * Which certificate answers which server name. Replacing an entry is one assignment: new
 * handshakes get the new certificate, connections already open keep theirs (a renewal drops
 * nothing). Keyed by name, not by app, so one listener could later serve several apps' domains.
 */
export class SniTable {
  private readonly contexts = new Map<string, SecureContext>();
  /** For clients that send no SNI (or an unknown name): they get a 421 over it, not a handshake failure. */
  private fallback: SecureContext | undefined;

  set(domains: string[], pair: CertificatePair): void {
    const context = createSecureContext({ key: pair.key, cert: pair.cert, minVersion: 'TLSv1.2' });
    for (const domain of domains) this.contexts.set(domain, context);
    this.fallback = context;
  }

  /** Forgets names no longer configured, so they fall to the 421. */
  keepOnly(domains: string[]): void {
    for (const name of [...this.contexts.keys()]) if (!domains.includes(name)) this.contexts.delete(name);
  }

  lookup(servername: string | undefined): SecureContext | undefined {
    return (servername ? this.contexts.get(normal(servername)) : undefined) ?? this.fallback;
  }

  /** The name is served with its own certificate (not the fallback). */
  serves(servername: string): boolean {
    return this.contexts.has(normal(servername));
  }

  get empty(): boolean {
    return this.fallback === undefined;
  }
}

function normal(servername: string): string {
  return servername.toLowerCase().replace(/\.$/, '');
}
