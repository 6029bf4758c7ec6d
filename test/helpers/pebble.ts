import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real ACME server on this machine: Debian's pebble, with pebble-challtestsrv as its DNS
 * (every name is 127.0.0.1). Pebble validates http-01 on `httpPort`, where ccom's plain-HTTP
 * port must listen. Its ACME API is served with a certificate from a CA made here (`caFile`);
 * the certificates it issues chain to its own root (`rootFile`, fetched once it runs).
 */
export interface Pebble {
  directory: string;
  caFile: string;
  rootFile: string;
  httpPort: number;
  /** Kills pebble and its DNS (its files stay until the test process exits). */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function makeApiCertificate(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, 'api-ca.pem');
  const caKey = join(dir, 'api-ca.key');
  const key = join(dir, 'api.key');
  const csr = join(dir, 'api.csr');
  const cert = join(dir, 'api.pem');
  const ext = join(dir, 'api.ext');
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=ccom test ACME API CA']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { ca, cert, key };
}

function started(child: ChildProcess, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Listening on|Starting management server|ACME directory available|Creating HTTP management server/i.test(output)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
    setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 15_000).unref();
  });
}

function fetchText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    })
      .on('error', reject)
      .end();
  });
}

async function waitFor(url: string, ca: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await fetchText(url, ca);
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** `validitySeconds`: how long issued certificates live (short for the renewal test). */
export async function startPebble(opts: { httpPort: number; validitySeconds?: number }): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-pebble-'));
  const api = makeApiCertificate(dir);
  const [acmePort, managementPort, dnsPort, challManagement, tlsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: api.cert,
      privateKey: api.key,
      httpPort: opts.httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
    },
  };
  const configFile = join(dir, 'pebble.json');
  writeFileSync(configFile, JSON.stringify(config));
  const dns = spawn('pebble-challtestsrv', ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challManagement}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pebble = spawn('pebble', ['-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  // The files outlive stop(): a test stops pebble to see ccom live on without it.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const child of [pebble, dns]) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  };
  try {
    await started(dns, 'pebble-challtestsrv');
    const ca = readFileSync(api.ca, 'utf8');
    const directory = `https://127.0.0.1:${acmePort}/dir`;
    await waitFor(directory, ca);
    const rootFile = join(dir, 'root.pem');
    writeFileSync(rootFile, await waitFor(`https://127.0.0.1:${managementPort}/roots/0`, ca));
    return { directory, caFile: api.ca, rootFile, httpPort: opts.httpPort, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
