import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { CertificatePair } from './cert-store.js';
import type { ChallengeAnswers } from './challenge-answers.js';

export interface AcmeOrder {
  domains: string[];
  email: string;
  directory: string;
  /** PEM file to trust for the ACME server itself (a private CA such as pebble's). */
  caFile?: string;
  accountKey: string;
  challenges: ChallengeAnswers;
  /** The plain-HTTP port the challenges are answered on: named in the fix. */
  httpPort: number;
}

/** A new P-256 key (PEM), for the ACME account. */
export async function newAccountKey(): Promise<string> {
  const acme = await import('acme-client');
  return (await acme.crypto.createPrivateEcdsaKey()).toString();
}

/**
 * Orders a certificate for `domains` by http-01: the CA fetches each domain's challenge from
 * this machine's plain-HTTP port. A failure is a UserError carrying the CA's own words (DNS
 * that points elsewhere, a closed port, a rate limit) and what to do about it.
 */
export async function orderCertificate(order: AcmeOrder): Promise<CertificatePair> {
  // Loaded only by agents that use ACME: it brings axios along.
  const acme = await import('acme-client');
  const ca = order.caFile === undefined ? undefined : readCa(order.caFile);
  configureHttp(acme.axios, ca);
  // acme-client turns a network failure into a TypeError about `config`: ask the directory
  // first, so an unreachable CA is reported with the system's own reason (ECONNREFUSED, DNS).
  await probeDirectory(order.directory, ca).catch((err: Error) => {
    throw new UserError(`could not reach the certificate authority at ${order.directory}: ${err.message}`, { fix: UNREACHABLE_FIX });
  });
  // Quick polls: a CA validates in seconds; the default first wait is 5 s.
  const client = new acme.Client({ directoryUrl: order.directory, accountKey: order.accountKey, backoffAttempts: 12, backoffMin: 500, backoffMax: 5000 });
  const [key, csr] = await acme.crypto.createCsr({ commonName: order.domains[0], altNames: order.domains }, await acme.crypto.createPrivateEcdsaKey());
  try {
    const cert = await client.auto({
      csr,
      email: order.email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The CA's own validation says why a domain fails; acme-client's pre-check would only
      // fetch the same URL through this machine's resolver, which may see a different answer.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => order.challenges.add(challenge.token, keyAuthorization),
      challengeRemoveFn: async (_authz, challenge) => order.challenges.remove(challenge.token),
    });
    return { key: key.toString(), cert };
  } catch (err) {
    throw orderFailure(err, order);
  }
}

type AxiosLike = Awaited<typeof import('acme-client')>['axios'] & { defaults: { acmeSettings?: { retryMaxAttempts: number; retryDefaultDelay: number } } };

const TIMEOUT_MS = 30_000;
const UNREACHABLE_FIX = 'check tls.acme.directory and that this machine can reach it (firewall, proxy, DNS); for a private ACME server set tls.acme.caFile';

function configureHttp(axios: AxiosLike, ca: string | undefined): void {
  axios.defaults.timeout = TIMEOUT_MS;
  // acme-client retries a failing server 5 times over 75 s; a deploy waits for this.
  if (axios.defaults.acmeSettings) Object.assign(axios.defaults.acmeSettings, { retryMaxAttempts: 2, retryDefaultDelay: 1 });
  axios.defaults.httpsAgent = ca === undefined ? undefined : new Agent({ ca });
}

function probeDirectory(directory: string, ca: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(directory, { ca, timeout: TIMEOUT_MS, agent: false }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`the directory answered HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message)));
    req.end();
  });
}

function readCa(caFile: string): string {
  try {
    return readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read tls.acme.caFile ${caFile}: ${(err as Error).message}`, { fix: 'point tls.acme.caFile at the PEM certificate of your ACME server, or remove it for a public CA' });
  }
}

function orderFailure(err: unknown, order: AcmeOrder): UserError {
  const reason = err instanceof Error ? err.message : String(err);
  const names = order.domains.join(', ');
  if (/rate ?limit|too many/i.test(reason)) {
    return new UserError(`the certificate authority refused a certificate for ${names}: ${reason}`, { fix: 'wait until the rate limit resets (the message says when), then deploy again; meanwhile test against a staging directory in tls.acme.directory' });
  }
  // acme-client's words for a connection lost after the directory answered.
  if (/reading 'config'/.test(reason)) {
    return new UserError(`lost the connection to the certificate authority at ${order.directory} while ordering a certificate for ${names}`, { fix: UNREACHABLE_FIX });
  }
  return new UserError(`the certificate authority could not validate ${names}: ${reason}`, {
    fix: `point the DNS of ${names} at this machine and let the internet reach port ${order.httpPort} here (the CA fetches /.well-known/acme-challenge/ over plain HTTP on it), then deploy again`,
  });
}
