import { UserError } from '../../errors.js';
import { describeAddress, knownHostsName } from './address.js';
import { fingerprint, keyTypeOf, lineNamesHost, type KnownHostsLine } from './known-hosts.js';

export interface PresentedKey {
  type: string;
  fingerprint: string;
}

/** What the known_hosts file says of the key a server presented. */
export type HostKeyVerdict =
  | { status: 'trusted'; line: number }
  | { status: 'unknown'; presented: PresentedKey }
  | { status: 'changed'; presented: PresentedKey; known: (PresentedKey & { line: number })[] }
  | { status: 'revoked'; presented: PresentedKey; line: number };

/** The keys known_hosts trusts for this host (not revoked, not certificate authorities). */
export function trustedLinesFor(lines: readonly KnownHostsLine[], host: string, port: number): KnownHostsLine[] {
  return lines.filter((l) => l.marker === undefined && lineNamesHost(l, host, port));
}

/**
 * Judges a presented key as OpenSSH does: a key marked `@revoked` (for any host) is refused; a
 * key listed for the host is trusted; a host listed with other keys has CHANGED its key; a host
 * not listed is unknown. Certificates (`@cert-authority`) are not supported: such lines never trust.
 */
export function judgeHostKey(lines: readonly KnownHostsLine[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const presented = { type: keyTypeOf(key), fingerprint: fingerprint(key) };
  const revoked = lines.find((l) => l.marker === 'revoked' && l.key.equals(key));
  if (revoked) return { status: 'revoked', presented, line: revoked.line };
  const trusted = trustedLinesFor(lines, host, port);
  const match = trusted.find((l) => l.key.equals(key));
  if (match) return { status: 'trusted', line: match.line };
  if (trusted.length === 0) return { status: 'unknown', presented };
  return { status: 'changed', presented, known: trusted.map((l) => ({ type: l.type, fingerprint: fingerprint(l.key), line: l.line })) };
}

/** The error that stops a connection whose host key is not trusted: nothing is sent to the host. */
export function hostKeyError(verdict: Exclude<HostKeyVerdict, { status: 'trusted' }>, address: { host: string; port: number }, knownHostsFile: string): UserError {
  const where = describeAddress(address);
  const { type, fingerprint: print } = verdict.presented;
  const scan = `ssh-keyscan -p ${address.port} -t ${type} ${address.host} >> ${knownHostsFile}`;
  if (verdict.status === 'unknown') {
    return new UserError(`host key of ${where} is not known: it presented ${type} ${print}, which ${knownHostsFile} does not list for ${knownHostsName(address.host, address.port)}`, {
      fix: `check that fingerprint with the host's administrator (on the host: ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub), then trust it: ${scan}`,
    });
  }
  if (verdict.status === 'revoked') {
    return new UserError(`host key of ${where} is REVOKED: it presented ${type} ${print}, marked @revoked on line ${verdict.line} of ${knownHostsFile}`, {
      fix: `do not deploy to ${where} until its administrator has replaced that host key; then trust the new one after checking its fingerprint (${scan})`,
    });
  }
  const known = verdict.known.map((k) => `${k.type} ${k.fingerprint} (line ${k.line})`).join(', ');
  return new UserError(
    `WARNING: the host key of ${where} has CHANGED. It presented ${type} ${print}; ${knownHostsFile} trusts ${known}. Someone may be intercepting the connection (man in the middle), or the host was reinstalled. Nothing was sent to it.`,
    {
      fix: `ask the host's administrator whether its key changed; only if it did: ssh-keygen -R ${knownHostsName(address.host, address.port)} -f ${knownHostsFile}, then ${scan}`,
    },
  );
}
