import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A private key and its certificate chain (leaf first), both PEM. */
export interface CertificatePair {
  key: string;
  cert: string;
}

/** What doctor and the renewal need to know about a certificate: its leaf's names, issuer and dates. */
export interface CertificateFacts {
  names: string[];
  issuer: string;
  validFrom: Date;
  validTo: Date;
}

export function certificateFacts(certPem: string): CertificateFacts {
  const leaf = new X509Certificate(certPem);
  const names = (leaf.subjectAltName ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
  const issuer = /(?:^|\n)O=(.*)/.exec(leaf.issuer)?.[1] ?? /(?:^|\n)CN=(.*)/.exec(leaf.issuer)?.[1] ?? leaf.issuer.replace(/\n/g, ', ');
  return { names, issuer, validFrom: new Date(leaf.validFrom), validTo: new Date(leaf.validTo) };
}

/** The certificate names every domain (exactly, or by a wildcard one level up). */
export function covers(facts: CertificateFacts, domains: string[]): boolean {
  return domains.every((d) => facts.names.includes(d) || facts.names.includes(`*.${d.slice(d.indexOf('.') + 1)}`));
}

/**
 * Certificates kept with the app's state (`<state>/tls/`, a 0700 folder): keys are written 0600
 * and renamed into place whole, so a crash mid-write never leaves a key without its certificate
 * or a half key. Named by the certificate's first domain, so one store can hold several.
 */
export class CertificateStore {
  constructor(readonly dir: string) {}

  load(name: string): CertificatePair | undefined {
    const key = join(this.dir, `${name}.key`);
    const cert = join(this.dir, `${name}.crt`);
    if (!existsSync(key) || !existsSync(cert)) return undefined;
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  }

  /** The certificate first: a key newer than its certificate would never be paired with the old one. */
  save(name: string, pair: CertificatePair): void {
    this.write(`${name}.crt.next`, pair.cert);
    this.write(`${name}.key.next`, pair.key);
    renameSync(join(this.dir, `${name}.key.next`), join(this.dir, `${name}.key`));
    renameSync(join(this.dir, `${name}.crt.next`), join(this.dir, `${name}.crt`));
  }

  /** The ACME account key, made once and kept: a new account per deploy would meet the CA's rate limits. */
  async accountKey(create: () => Promise<string>): Promise<string> {
    const file = join(this.dir, 'account.key');
    if (existsSync(file)) return readFileSync(file, 'utf8');
    const key = await create();
    this.write('account.key', key);
    return key;
  }

  private write(file: string, text: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const path = join(this.dir, file);
    writeFileSync(path, text, { mode: 0o600 });
    // writeFileSync's mode applies only when it creates the file.
    chmodSync(path, 0o600);
  }
}
