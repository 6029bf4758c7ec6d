import { join } from 'node:path';
import { mustRun } from '../lib/proc.js';

export interface CertificateFiles {
  cert: string;
  key: string;
}

/**
 * A self-signed ECDSA P-256 certificate for `name`, made by openssl in `dir`: the same key type
 * ccom's ACME orders use, so the handshakes measured are the ones a ccom site really does. Both
 * peers serve these very files; the client trusts the certificate itself as its CA.
 */
export async function makeCertificate(dir: string, name: string): Promise<CertificateFiles> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2'];
  await mustRun('openssl', [...args, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`]);
  return { cert, key };
}
