import { Agent } from 'node:https';
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
  configureHttp(acme.axios, order.caFile);
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

function configureHttp(axios: AxiosLike, caFile: string | undefined): void {
  axios.defaults.timeout = 30_000;
  // acme-client retries an unreachable server 5 times over 75 s; a deploy waits for this.
  if (axios.defaults.acmeSettings) Object.assign(axios.defaults.acmeSettings, { retryMaxAttempts: 2, retryDefaultDelay: 1 });
  axios.defaults.httpsAgent = caFile === undefined ? undefined : new Agent({ ca: readCa(caFile) });
}

function readCa(caFile: string): string {
  try {
    return readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read tls.acme.caFile ${caFile}: ${(err as Error).message}`, { fix: 'point tls.acme.caFile at the PEM certificate of your ACME server, or remove it for a public CA' });
  }
}

const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|timeout|certificate|self[- ]signed/i;

function orderFailure(err: unknown, order: AcmeOrder): UserError {
  const reason = err instanceof Error ? err.message : String(err);
  const names = order.domains.join(', ');
  if (/rate ?limit|too many/i.test(reason)) {
    return new UserError(`the certificate authority refused a certificate for ${names}: ${reason}`, { fix: 'wait until the rate limit resets (the message says when), then deploy again; meanwhile test against a staging directory in tls.acme.directory' });
  }
  const code = (err as { code?: string }).code ?? '';
  if (UNREACHABLE.test(code) || (!/urn:ietf|acme|authoriz|challenge|validat|dns|connection/i.test(reason) && UNREACHABLE.test(reason))) {
    return new UserError(`could not reach the certificate authority at ${order.directory}: ${reason}`, { fix: 'check tls.acme.directory and that this machine can reach it (firewall, proxy, DNS); for a private ACME server set tls.acme.caFile' });
  }
  return new UserError(`the certificate authority could not validate ${names}: ${reason}`, {
    fix: `point the DNS of ${names} at this machine and let the internet reach port ${order.httpPort} here (the CA fetches /.well-known/acme-challenge/ over plain HTTP on it), then deploy again`,
  });
}
