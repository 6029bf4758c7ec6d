/**
 * HTTPS through ccom against nginx terminating TLS, both in front of the same app instance, with
 * the same certificate and the same pinned TLS 1.3 suite: requests per second over keep-alive
 * connections (wrk), and new connections per second, each a full handshake (no resumption on
 * either peer: the client never offers a session). ccom is a real deploy: the agent serving
 * `domains: [shop.test]` with `tls.cert`/`tls.key`; nginx proxies to that deploy's instance.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentPid, ccom, deployJson, teardownApp } from './lib/ccom.js';
import { onCleanup } from './lib/cleanup.js';
import { freePort } from './lib/free-port.js';
import { isMain } from './lib/main.js';
import { mustRun } from './lib/proc.js';
import { median } from './lib/stats.js';
import { measureRun, withCpuAccount, type PeerProcesses } from './peer/measure-http.js';
import { findNginx, startNginx } from './peer/nginx.js';
import { makeOriginApp } from './peer/origin-app.js';
import { makeCertificate, type CertificateFiles } from './peer/tls-cert.js';
import { runHandshakes } from './peer/tls-handshakes.js';
import { negotiated, wrkNegotiates, wrkTlsOptions } from './peer/tls-pin.js';
import { perRunNotes, printTlsVsNginx, tlsRatios, tlsRows, type TlsPeer, type TlsVsNginxResult } from './peer/tls-report.js';
import { findWrk } from './peer/wrk.js';

const DOMAIN = 'shop.test';
const WARMUP_S = 3;
const MEASURE_S = 10;
/** Keep-alive connections wrk holds open, the same for both peers (as in proxy-vs-nginx). */
const CONNECTIONS = 50;
/** New-connection loops running at once, the same for both peers. */
const PARALLEL_HANDSHAKES = 32;
/** Interleaved rounds per peer (ccom, nginx, ccom, nginx…); CPU per request is their median. */
const ROUNDS = 3;

/** The bench app deployed by ccom over HTTPS on free ports (never 443/80) with the given files. */
function configureHttps(dir: string, files: CertificateFiles, port: number, httpPort: number): void {
  const base = `app: bench-peer
start: node server.js
instances: 1
health:
  path: /healthz
  interval: 100ms
  timeout: 15s
monitoring:
  port: 0
`;
  writeFileSync(join(dir, 'ccom.yaml'), `${base}proxy:\n  port: ${port}\n  httpPort: ${httpPort}\ndomains: [${DOMAIN}]\ntls:\n  cert: ${files.cert}\n  key: ${files.key}\n`);
}

/** The live release's one instance, from `ccom status --json`: the port both peers proxy to. */
async function instanceOf(dir: string): Promise<{ pid: number; port: number }> {
  const run = await ccom(['status', '-C', dir, '--json']);
  const doc = JSON.parse(run.stdout) as { releases: Array<{ weight: number; instances: Array<{ pid: number; port: number }> }> };
  const instance = doc.releases.find((r) => r.weight > 0)?.instances[0];
  if (!instance) throw new Error(`ccom status shows no live instance:\n${run.stdout}`);
  return instance;
}

/** Wall time of `node -e 0`, median of 5: how fast this machine is today, next to its core count. */
async function nodeStartMs(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push((await mustRun(process.execPath, ['-e', '0'])).wallMs);
  return median(times);
}

interface Target {
  peer: TlsPeer;
  port: number;
  procs: PeerProcesses;
}

async function measureKeepAlive(wrk: string, targets: Target[], options: ReturnType<typeof wrkTlsOptions>): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const url = `https://${DOMAIN}:${t.port}/`;
      if (round === 0) await measureRun(wrk, url, WARMUP_S, CONNECTIONS, t.procs, options);
      t.peer.keepAlive.push(await measureRun(wrk, url, MEASURE_S, CONNECTIONS, t.procs, options));
    }
  }
}

async function measureNewConnections(targets: Target[], ca: string): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      if (round === 0) await runHandshakes(t.port, DOMAIN, ca, PARALLEL_HANDSHAKES, WARMUP_S);
      const { result, cpu } = await withCpuAccount(t.procs, () => runHandshakes(t.port, DOMAIN, ca, PARALLEL_HANDSHAKES, MEASURE_S));
      t.peer.newConnections.push({ ...result, proxyCpuUsPerHandshake: result.handshakes === 0 ? null : (cpu.proxyCpuSeconds * 1e6) / result.handshakes, otherCpuShare: cpu.otherCpuShare });
    }
  }
}

const peer = (key: TlsPeer['key'], label: string): TlsPeer => ({ key, label, negotiated: '', keepAlive: [], newConnections: [] });

/** Runs the comparison; never asserts a speed, only reports. */
export async function run(): Promise<TlsVsNginxResult> {
  const wrk = findWrk();
  if (!wrk) throw new Error('wrk not found on PATH: install it (apt-get install wrk) to run this benchmark');
  const nginxBin = findNginx();
  if (!nginxBin) throw new Error('nginx not found (apt-get install nginx, or set NGINX_BIN): this benchmark is a comparison with it');
  const work = realpathSync(mkdtempSync(join(tmpdir(), 'ccom-bench-tls-')));
  const app = makeOriginApp(1);
  const stops: Array<() => Promise<void>> = [];
  const cleanup = onCleanup(async () => {
    for (const stop of stops.reverse()) await stop();
    await teardownApp(app);
    rmSync(work, { recursive: true, force: true });
  });
  try {
    const files = await makeCertificate(work, DOMAIN);
    const wrkOptions = wrkTlsOptions(work);
    const wrkPin = await wrkNegotiates(wrk, wrkOptions, files, DOMAIN);
    const [port, httpPort] = [await freePort(), await freePort()];
    configureHttps(app, files, port, httpPort);
    await deployJson(app);
    const instance = await instanceOf(app);
    const nginx = await startNginx(nginxBin, instance.port, { ...files, serverName: DOMAIN });
    stops.push(nginx.stop);
    const targets: Target[] = [
      { peer: peer('ccom', 'ccom agent (deployed, tls.cert)'), port, procs: { proxy: [agentPid(app)], app: [instance.pid] } },
      { peer: peer('nginx', 'nginx (1 worker, keepalive 64)'), port: nginx.port, procs: { proxy: [nginx.pid], proxyChildren: true, app: [instance.pid] } },
    ];
    for (const t of targets) t.peer.negotiated = await negotiated(t.port, DOMAIN, files.cert);
    await measureKeepAlive(wrk, targets, wrkOptions);
    await measureNewConnections(targets, files.cert);
    const peers = targets.map((t) => t.peer);
    const cores = cpus();
    return {
      name: 'tls-vs-nginx',
      title: 'HTTPS: ccom vs nginx terminating TLS, same certificate, cipher and app instance',
      rows: tlsRows(peers),
      ratios: tlsRatios(peers),
      notes: [
        `machine: ${cores.length} CPU cores (${cores[0]?.model ?? 'unknown'}), node -e 0 in ${(await nodeStartMs()).toFixed(0)} ms; the load client, the proxy and the app share the cores`,
        `certificate: self-signed ECDSA P-256 for ${DOMAIN} made by openssl for this run (the key type of ccom's ACME certificates), the same files for both peers`,
        `cipher: clients offer only ${wrkPin}; wrk negotiated ${wrkPin} (checked against a probe server); ${peers.map((p) => `${p.key} negotiated ${p.negotiated}`).join(', ')}`,
        `keep-alive: wrk -t1 -c${CONNECTIONS} -d${MEASURE_S}s over TLS (SNI and Host ${DOMAIN}), after a ${WARMUP_S} s warm-up`,
        `new connections: a Node client, ${PARALLEL_HANDSHAKES} loops of connect + full TLS handshake + one GET with connection: close, for ${MEASURE_S} s; it never offers a session back, so neither peer resumes (wrk with connection: close resumes sessions, so it cannot measure this); a TLS client spends about as much CPU per connection as a server, so on a small shared machine the client can set the pace of both peers: then read the connections per proxy CPU-second`,
        `${ROUNDS} interleaved rounds per measure; best run's req/s and latencies reported, proxy CPU is the median over the runs`,
        ...peers.flatMap(perRunNotes),
      ],
      peers,
    };
  } finally {
    await cleanup();
  }
}

if (isMain(import.meta.url)) {
  run().then(printTlsVsNginx, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
