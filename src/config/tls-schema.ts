import type { z } from 'zod';

/** Let's Encrypt's production directory: what `tls.acme` talks to unless `directory` names another. */
export const DEFAULT_ACME_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/** Labels of letters, digits and dashes; a name with a dot, as certificates are issued for (no IPs, no wildcards). */
export function isDomainName(name: string): boolean {
  if (name.length > 253 || !name.includes('.') || /^[\d.]+$/.test(name)) return false;
  return name.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label));
}

interface RawTls {
  acme?: { email: string; directory: string; caFile?: string };
  cert?: string;
  key?: string;
}

interface RawHttps {
  domains?: string[];
  tls?: RawTls;
  proxy: { port?: number; httpPort?: number };
}

/**
 * The cross-key rules of domains / tls / proxy.httpPort, each reported at the key to change:
 * a certificate needs names, and comes from exactly one source.
 */
export function refineTls(c: RawHttps, proxyPort: number, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string, input: unknown) => ctx.addIssue({ code: 'custom', path, message, input });
  if (c.domains && new Set(c.domains).size !== c.domains.length) issue(['domains'], 'each domain name once', c.domains);
  if (!c.tls) {
    if (c.domains) issue(['tls'], 'a tls section for the domains: tls.acme.email for automatic certificates, or tls.cert and tls.key', undefined);
    if (c.proxy.httpPort !== undefined) issue(['proxy', 'httpPort'], 'no httpPort without a tls section (it answers certificate challenges and redirects to https)', c.proxy.httpPort);
    return;
  }
  if (!c.domains) issue(['domains'], 'the domain names the certificate is for, like [shop.example.com]', undefined);
  const files = c.tls.cert !== undefined || c.tls.key !== undefined;
  if (c.tls.acme && files) issue(['tls'], 'either tls.acme or tls.cert and tls.key, not both', 'both');
  else if (!c.tls.acme && !files) issue(['tls'], 'tls.acme.email for automatic certificates, or tls.cert and tls.key', c.tls);
  else if (files && (c.tls.cert === undefined || c.tls.key === undefined)) issue(['tls', c.tls.cert === undefined ? 'cert' : 'key'], 'tls.cert and tls.key together', undefined);
  const httpPort = c.proxy.httpPort ?? 80;
  if (httpPort !== 0 && httpPort === proxyPort) issue(['proxy', 'httpPort'], `a port other than proxy.port (${proxyPort})`, httpPort);
}

/** With tls the public port is HTTPS (443 unless set) and plain HTTP answers on httpPort (80 unless set). */
export function resolveProxy<P extends { host: string; port?: number; httpPort?: number }>(proxy: P, tls: boolean): { host: string; port: number; httpPort?: number } {
  if (!tls) return { host: proxy.host, port: proxy.port ?? 8080 };
  return { host: proxy.host, port: proxy.port ?? 443, httpPort: proxy.httpPort ?? 80 };
}
