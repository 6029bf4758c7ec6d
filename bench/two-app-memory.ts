/**
 * Memory of everything ccom runs for two apps on one machine: two apps sharing one HTTPS port
 * (and one plain-HTTP port) by `domains`, against two of today's apps each on its own plain
 * port. For each app ccom runs an agent (proxy, supervisor, and on a shared port the front that
 * hands connections on) under a guardian (a small /bin/sh loop); the apps' instances are not
 * counted. RSS from /proc/<pid>/status, after an idle pause and after requests to both apps.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentPid, deployJson, teardownApp } from './lib/ccom.js';
import { onCleanup } from './lib/cleanup.js';
import { makeFixtureApp } from './lib/fixture.js';
import { freePort } from './lib/free-port.js';
import { sendRequests } from './lib/load.js';
import { isMain, runAsScript } from './lib/main.js';
import { rssMb, sleep } from './lib/proc.js';
import { ratio, type BenchResult } from './lib/report.js';
import { round1 } from './lib/stats.js';
import { makeCertificate, type CertificateFiles } from './peer/tls-cert.js';

const IDLE_MS = 5000;
const REQUESTS = 1000;
const APPS = ['memshop', 'memblog'] as const;

interface Processes {
  agent: number;
  /** The agent's parent when it is its guardian (agent-guardian.sh). */
  guardian: number | undefined;
}

interface Reading {
  idleMb: number;
  loadedMb: number;
  perApp: Array<{ app: string; agentMb: number; guardianMb: number }>;
  failed: number;
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function processesOf(dir: string): Processes {
  const agent = agentPid(dir);
  const parent = parentOf(agent);
  const guardian = readFileSync(`/proc/${parent}/cmdline`, 'utf8').includes('agent-guardian') ? parent : undefined;
  return { agent, guardian };
}

const totalMb = (procs: Processes[]) => procs.reduce((sum, p) => sum + rssMb(p.agent) + (p.guardian === undefined ? 0 : rssMb(p.guardian)), 0);

/** Idle RSS of all the apps' ccom processes, then after `send` loaded every app. */
async function readMemory(dirs: string[], send: () => Promise<number>): Promise<Reading> {
  const procs = dirs.map(processesOf);
  await sleep(IDLE_MS);
  const idleMb = totalMb(procs);
  const failed = await send();
  const perApp = procs.map((p, i) => ({ app: APPS[i] as string, agentMb: round1(rssMb(p.agent)), guardianMb: round1(p.guardian === undefined ? 0 : rssMb(p.guardian)) }));
  return { idleMb, loadedMb: totalMb(procs), perApp, failed };
}

function configure(dir: string, app: string, proxy: string, extra = ''): void {
  const config = readFileSync(join(dir, 'ccom.yaml'), 'utf8').replace('app: bench', `app: ${app}`).replace('proxy:\n  port: 0\n', proxy);
  writeFileSync(join(dir, 'ccom.yaml'), config + extra);
}

/** Two plain apps, each with its own public port: today's layout. */
async function measureOwnPorts(): Promise<Reading> {
  const dirs = APPS.map(() => makeFixtureApp('ccom-bench-mem-'));
  const teardown = onCleanup(async () => {
    for (const dir of dirs) await teardownApp(dir);
  });
  try {
    const urls: string[] = [];
    for (const [i, dir] of dirs.entries()) {
      configure(dir, APPS[i] as string, 'proxy:\n  port: 0\n');
      urls.push((await deployJson(dir)).doc.url);
    }
    return await readMemory(dirs, async () => {
      let failed = 0;
      for (const url of urls) failed += (await sendRequests(url, REQUESTS)).failed;
      return failed;
    });
  } finally {
    await teardown();
  }
}

/** `total` GETs over 8 keep-alive TLS connections to `name` on 127.0.0.1:`port`; how many did not answer 200. */
async function sendHttps(port: number, name: string, ca: Buffer, total: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca, servername: name });
  let next = 0;
  let failed = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: name } }, (res) => {
        if (res.statusCode !== 200) failed++;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
  const worker = async () => {
    while (next < total) {
      next++;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    agent.destroy();
  }
  return failed;
}

/** Two apps with `domains` on one HTTPS port and one plain-HTTP port: the second shares the first's. */
async function measureSharedPort(): Promise<Reading> {
  const certDir = realpathSync(mkdtempSync(join(tmpdir(), 'ccom-bench-mem-certs-')));
  const dirs = APPS.map(() => makeFixtureApp('ccom-bench-mem-'));
  const teardown = onCleanup(async () => {
    for (const dir of [...dirs].reverse()) await teardownApp(dir);
    rmSync(certDir, { recursive: true, force: true });
  });
  try {
    const [port, httpPort] = [await freePort(), await freePort()];
    const names = APPS.map((app) => `${app}.test`);
    const certs: CertificateFiles[] = [];
    for (const [i, dir] of dirs.entries()) {
      const files = await makeCertificate(certDir, names[i] as string);
      certs.push(files);
      configure(dir, APPS[i] as string, `proxy:\n  port: ${port}\n  httpPort: ${httpPort}\n`, `domains: [${names[i]}]\ntls:\n  cert: ${files.cert}\n  key: ${files.key}\n`);
      await deployJson(dir);
    }
    return await readMemory(dirs, async () => {
      let failed = 0;
      for (const [i, name] of names.entries()) failed += await sendHttps(port, name, readFileSync((certs[i] as CertificateFiles).cert), REQUESTS);
      return failed;
    });
  } finally {
    await teardown();
  }
}

export async function twoAppMemory(): Promise<BenchResult> {
  const own = await measureOwnPorts();
  const shared = await measureSharedPort();
  const notes = [
    `ccom's processes for two apps (agent + guardian each; the shared port's front runs inside the owner's agent), VmRSS after ${IDLE_MS / 1000} s idle, then after ${REQUESTS} GET / to each app over 8 keep-alive connections (HTTPS with SNI on the shared port); 2 instances per app, not counted`,
    ...[['own ports', own], ['shared 443-style port', shared]].map(([what, r]) => {
      const reading = r as Reading;
      return `${what as string}: ${reading.perApp.map((p) => `${p.app} agent ${p.agentMb} MB, guardian ${p.guardianMb} MB`).join('; ')}${reading.failed > 0 ? `; ${reading.failed} requests did not answer 200` : ''}`;
    }),
  ];
  return {
    name: 'two-app-memory',
    title: 'Memory for two apps: shared HTTPS port by domains vs own plain ports',
    rows: [
      { label: 'two apps, own plain ports, idle', unit: 'MB', value: round1(own.idleMb) },
      { label: `two apps, own plain ports, after ${REQUESTS} requests each`, unit: 'MB', value: round1(own.loadedMb) },
      { label: 'two apps sharing an HTTPS port by domains, idle', unit: 'MB', value: round1(shared.idleMb) },
      { label: `two apps sharing an HTTPS port, after ${REQUESTS} requests each`, unit: 'MB', value: round1(shared.loadedMb) },
    ],
    ratios: [
      { label: 'shared HTTPS port / own plain ports, idle', value: ratio(shared.idleMb, own.idleMb) },
      { label: `shared HTTPS port / own plain ports, after ${REQUESTS} requests each`, value: ratio(shared.loadedMb, own.loadedMb) },
    ],
    notes,
  };
}

if (isMain(import.meta.url)) runAsScript(twoAppMemory);
