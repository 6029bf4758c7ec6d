import type { CertificateFacts } from './cert-store.js';

const DAY_MS = 86_400_000;
/** From then on a certificate that cannot be renewed is warned about (doctor, webhook). */
export const WARN_BEFORE_EXPIRY_MS = 14 * DAY_MS;

/**
 * Renewal starts with a third of the lifetime left (30 days of Let's Encrypt's 90, as certbot
 * does): weeks of retries before anyone must act, and the 14-day warning only if they all fail.
 */
export function renewalDue(facts: CertificateFacts, now: number): boolean {
  const lifetime = facts.validTo.getTime() - facts.validFrom.getTime();
  return facts.validTo.getTime() - now < Math.min(30 * DAY_MS, lifetime / 3);
}

/** How often to look: hourly for real certificates, faster for short-lived test ones. */
export function checkEveryMs(facts: CertificateFacts): number {
  const lifetime = facts.validTo.getTime() - facts.validFrom.getTime();
  return Math.max(1_000, Math.min(3_600_000, Math.round(lifetime / 30)));
}

/** The warning for a certificate within 14 days of expiry whose renewal failed, else null. */
export function expiryWarning(facts: CertificateFacts, now: number, problem: string): string | null {
  const left = facts.validTo.getTime() - now;
  if (left > WARN_BEFORE_EXPIRY_MS) return null;
  const when = left <= 0 ? `expired on ${facts.validTo.toISOString()}` : `expires on ${facts.validTo.toISOString()} (in ${Math.ceil(left / DAY_MS)} day(s))`;
  return `the certificate for ${facts.names.join(', ')} ${when} and could not be renewed: ${problem}`;
}
