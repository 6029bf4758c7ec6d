import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { UserError } from '../errors.js';
import type { HttpsOptions } from '../targets/types.js';
import { newAccountKey, orderCertificate } from './acme-order.js';
import { certificateFacts, covers, type CertificateFacts, type CertificatePair, type CertificateStore } from './cert-store.js';
import type { ChallengeAnswers } from './challenge-answers.js';

/** Where a site's certificate comes from: the store and ACME, or the user's own files. */
export class CertificateSource {
  /** The certificate file's text when last read: a change (certbot renewed it) is picked up. */
  private filesSeen: string | undefined;

  constructor(
    private readonly store: CertificateStore,
    private readonly appDir: string,
    private readonly challenges: ChallengeAnswers,
  ) {}

  /**
   * The certificate to serve now. With ACME: the stored one unless it is due (`due`) or no
   * longer fits the domains, else a new order; an order that fails while a stored one fits the
   * domains keeps it, even expired (`problem` says why): a site that served is never taken
   * down. Throws only when there is nothing to serve (the first deploy).
   */
  async obtain(options: HttpsOptions, due: (facts: CertificateFacts) => boolean): Promise<{ pair: CertificatePair; problem: string | null }> {
    if (!options.tls.acme) return { pair: this.readFiles(options), problem: null };
    const stored = this.store.load(options.domains[0] as string);
    const facts = stored && factsOrUndefined(stored.cert);
    const usable = stored !== undefined && facts !== undefined && covers(facts, options.domains);
    if (usable && !due(facts) && facts.validTo.getTime() > Date.now()) return { pair: stored, problem: null };
    try {
      return { pair: await this.order(options), problem: null };
    } catch (err) {
      if (usable) return { pair: stored, problem: (err as Error).message };
      throw err;
    }
  }

  /** A new certificate: ordered again, or the files read again. */
  renew(options: HttpsOptions): Promise<CertificatePair> {
    return options.tls.acme ? this.order(options) : Promise.resolve(this.readFiles(options));
  }

  /** The user's certificate file changed since it was last read (files mode only). */
  filesChanged(options: HttpsOptions): boolean {
    if (options.tls.acme || options.tls.cert === undefined) return false;
    try {
      return readFileSync(resolve(this.appDir, options.tls.cert), 'utf8') !== this.filesSeen;
    } catch {
      return false; // unreadable for now: the one in use keeps serving
    }
  }

  private async order(options: HttpsOptions): Promise<CertificatePair> {
    const acme = options.tls.acme as NonNullable<HttpsOptions['tls']['acme']>;
    const pair = await orderCertificate({
      domains: options.domains,
      email: acme.email,
      directory: acme.directory,
      caFile: acme.caFile === undefined ? undefined : resolve(this.appDir, acme.caFile),
      accountKey: await this.store.accountKey(newAccountKey),
      challenges: this.challenges,
      httpPort: options.httpPort,
    });
    this.store.save(options.domains[0] as string, pair);
    return pair;
  }

  private readFiles(options: HttpsOptions): CertificatePair {
    const certFile = resolve(this.appDir, options.tls.cert as string);
    const keyFile = resolve(this.appDir, options.tls.key as string);
    const pair = { cert: readPem(certFile, 'tls.cert'), key: readPem(keyFile, 'tls.key') };
    try {
      createSecureContext(pair);
    } catch (err) {
      throw new UserError(`tls.key ${keyFile} does not go with tls.cert ${certFile}: ${(err as Error).message}`, { fix: 'point tls.cert and tls.key at one certificate chain (PEM, leaf first) and its private key' });
    }
    const facts = factsOrUndefined(pair.cert);
    if (!facts) throw new UserError(`tls.cert ${certFile} holds no PEM certificate`, { fix: 'point tls.cert at the certificate chain (PEM, leaf first)' });
    if (!covers(facts, options.domains)) {
      throw new UserError(`tls.cert ${certFile} is for ${facts.names.join(', ') || 'no DNS name'}, not for every one of ${options.domains.join(', ')}`, { fix: 'use a certificate that names every domain in ccom.yaml, or list only the names it covers' });
    }
    if (facts.validTo.getTime() <= Date.now()) {
      throw new UserError(`tls.cert ${certFile} expired on ${facts.validTo.toISOString()}`, { fix: 'renew the certificate, or use tls.acme for automatic ones' });
    }
    this.filesSeen = pair.cert;
    return pair;
  }
}

function readPem(file: string, key: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${key} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { fix: `check the path in ${key} and that this user can read the file` });
  }
}

function factsOrUndefined(cert: string): CertificateFacts | undefined {
  try {
    return certificateFacts(cert);
  } catch {
    return undefined;
  }
}
