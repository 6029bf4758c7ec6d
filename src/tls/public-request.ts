import { request } from 'node:https';
import type { ProbeResponse } from '../targets/types.js';
import { collectResponse } from '../targets/local/agent-client.js';

/**
 * A smoke request to `https://<domain>/path` sent to the address the public port is bound to,
 * as a user's browser would send it (SNI and Host name the domain), without asking DNS, which
 * may not point here yet. The certificate is not judged here: doctor checks it.
 */
export function requestOverTls(url: string, address: { host: string; port: number }, method: string): Promise<ProbeResponse> {
  const target = new URL(url);
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port: address.port, path: `${target.pathname}${target.search}`, method, servername: target.hostname, rejectUnauthorized: false, agent: false, headers: { host: target.host, 'user-agent': 'ccom-smoke' } },
      (res) => collectResponse(res).then(resolve, reject),
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10s')));
    req.on('error', reject);
    req.end();
  });
}
