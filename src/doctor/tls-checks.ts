import { lookup } from 'node:dns/promises';
import { connect as connectTcp } from 'node:net';
import { networkInterfaces } from 'node:os';
import { connect as connectTls, type PeerCertificate } from 'node:tls';
import type { Config } from '../config/types.js';
import { messageOf } from '../errors.js';
import type { TargetStatus } from '../targets/types.js';
import { WARN_BEFORE_EXPIRY_MS } from '../tls/renewal.js';
import { describeSharedPort, sharedPortSummary } from '../tls/port-registry.js';
import { fail, pass, warn, type Check } from './types.js';

const TIMEOUT_MS = 3_000;

/** With domains and tls: the certificate each domain is served, both ports, and each domain's DNS. */
export async function tlsChecks(config: Config, status: TargetStatus | undefined): Promise<Check[]> {
  if (!config.tls || !config.domains) return [];
  const address = status?.address ?? { host: config.proxy.host, port: config.proxy.port };
  const host = loopbackFor(address.host);
  const certificates = await Promise.all(config.domains.map((domain) => certificateCheck(domain, host, address.port, status)));
  const ports = status ? await portsCheck(host, address.port, config.proxy.httpPort ?? 80) : warn('https-ports', 'not deployed: nothing listens yet', 'run `ccom deploy`');
  const shared = [address.port, config.proxy.httpPort ?? 80].map((port) => sharedPortCheck(port)).filter((c): c is Check => c !== undefined);
  return [...certificates, ports, ...shared, ...(await Promise.all(config.domains.map(dnsCheck)))];
}

/** A port several apps share by host name: which app's agent holds it, and who serves which names. */
function sharedPortCheck(port: number): Check | undefined {
  const shared = sharedPortSummary(port);
  if (!shared) return undefined;
  const name = `shared-port ${port}`;
  if (!shared.holder) return warn(name, describeSharedPort(shared), 'run `ccom status` in one of those apps: its agent takes the port');
  return pass(name, describeSharedPort(shared));
}

function loopbackFor(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
}

/** The certificate a browser asking for `domain` gets from the public port: issuer, expiry, names. */
async function certificateCheck(domain: string, host: string, port: number, status: TargetStatus | undefined): Promise<Check> {
  const name = `certificate ${domain}`;
  if (!status) return warn(name, 'not deployed: no certificate yet', 'run `ccom deploy` (it gets the certificate)');
  let cert: PeerCertificate;
  try {
    cert = await servedCertificate(host, port, domain);
  } catch (err) {
    return fail(name, `no TLS handshake on ${host}:${port} for ${domain}: ${messageOf(err)}`, 'run `ccom status` to restart the agent, then `ccom doctor` again');
  }
  const names = (cert.subjectaltname ?? '').split(',').map((s) => s.trim().replace(/^DNS:/, '')).filter(Boolean);
  const issuer = cert.issuer?.O ?? cert.issuer?.CN ?? 'unknown issuer';
  const expires = new Date(cert.valid_to);
  const left = expires.getTime() - Date.now();
  const facts = `issued by ${issuer}, expires ${expires.toISOString()}, for ${names.join(', ')}`;
  const renewal = status.tls?.problem ? `; the last renewal failed: ${status.tls.problem}` : '';
  if (!names.includes(domain)) return fail(name, `the certificate served for ${domain} does not name it (${facts})`, 'add the domain to domains in ccom.yaml and deploy again');
  if (left <= 0) return fail(name, `expired: ${facts}${renewal}`, 'fix what the renewal reports (DNS, port 80, rate limit), then deploy again to get a new certificate');
  if (left < WARN_BEFORE_EXPIRY_MS) return warn(name, `${facts} (in ${Math.ceil(left / 86_400_000)} day(s))${renewal}`, 'fix what the renewal reports (DNS, port 80, rate limit); the agent keeps trying, a deploy tries at once');
  if (renewal) return warn(name, `${facts}${renewal}`, 'fix what the renewal reports; the current certificate keeps serving meanwhile');
  return pass(name, facts);
}

function servedCertificate(host: string, port: number, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host, port, servername, rejectUnauthorized: false, timeout: TIMEOUT_MS }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert);
    });
    socket.on('timeout', () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
  });
}

/** Both ports take connections here (from the internet is the firewall's say, which ccom cannot see). */
async function portsCheck(host: string, httpsPort: number, httpPort: number): Promise<Check> {
  const name = 'https-ports';
  const results = await Promise.all([httpsPort, httpPort].map(async (port) => ({ port, error: await tcpError(host, port) })));
  const closed = results.filter((r) => r.error !== null);
  if (closed.length === 0) return pass(name, `ports ${httpsPort} (https) and ${httpPort} (http: certificate challenges, redirect) take connections on ${host}`);
  return fail(name, closed.map((r) => `port ${r.port} on ${host}: ${r.error}`).join('; '), 'run `ccom status` to restart the agent; make sure the firewall lets the internet reach both ports');
}

function tcpError(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port, timeout: TIMEOUT_MS }, () => {
      socket.destroy();
      resolve(null);
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve('timed out');
    });
    socket.on('error', (err) => resolve(messageOf(err)));
  });
}

/** Where the domain's DNS points, against this machine's own addresses (behind NAT it cannot tell). */
async function dnsCheck(domain: string): Promise<Check> {
  const name = `dns ${domain}`;
  let found: string[];
  try {
    found = (await lookup(domain, { all: true })).map((a) => a.address);
  } catch (err) {
    return warn(name, `${domain} does not resolve here: ${messageOf(err)}`, `create an A (or AAAA) record for ${domain} with this machine's public address`);
  }
  const own = Object.values(networkInterfaces()).flat().map((i) => i?.address).filter((a): a is string => a !== undefined);
  if (found.some((a) => own.includes(a))) return pass(name, `${domain} points here (${found.join(', ')})`);
  const onlyPrivate = own.every((a) => /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|::1$|fe80:|fc|fd)/.test(a));
  if (onlyPrivate) return pass(name, `${domain} points to ${found.join(', ')}; this machine has only private addresses, so whether that reaches it through NAT cannot be told from here`);
  return warn(name, `${domain} points to ${found.join(', ')}, none of this machine's addresses (${own.join(', ')})`, `point the A/AAAA record of ${domain} at this machine, or ignore this behind a load balancer`);
}
