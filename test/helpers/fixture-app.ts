import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinStateDir } from '../../src/app-state.js';
import { runCcom, setCcomHome, stateOf } from './ccom.js';

/** How a fixture release behaves: the failure modes a deploy must survive. */
export type AppMode = 'ok' | 'crash-on-boot' | 'never-healthy' | 'broken-page' | 'crash-after-boot' | 'flaky-20' | 'slow-300' | 'crash-on-traffic' | 'port-taken-once' | 'port-taken-always' | 'hello-30';

/**
 * A real HTTP app in a temp dir. `/` answers `ok <version>`, `/healthz` 200; the mode makes it
 * crash on boot, fail health checks forever, or pass health but fail the smoke test.
 */
export function serverSource(version: string, mode: AppMode): string {
  return `
const http = require('node:http');
const MODE = ${JSON.stringify(mode)};
const VERSION = ${JSON.stringify(version)};
let served = 0;
if (MODE === 'crash-on-boot') { console.error('boom: cannot connect to the database'); process.exit(1); }
// port-taken-*: $PORT is taken when the app listens (here by itself), so it dies of a genuine
// EADDRINUSE: on every boot, or only on each instance's first (a marker file per instance id).
const marker = require('node:path').join(require('node:os').tmpdir(), 'ccom-port-taken-' + process.env.CCOM_INSTANCE);
if (MODE === 'port-taken-always' || (MODE === 'port-taken-once' && !require('node:fs').existsSync(marker))) {
  require('node:fs').writeFileSync(marker, '');
  const first = http.createServer().listen(Number(process.env.PORT), '127.0.0.1', () => http.createServer().listen(Number(process.env.PORT), '127.0.0.1'));
  return void first;
}
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(MODE === 'never-healthy' ? 503 : 200);
    return res.end(MODE === 'never-healthy' ? 'starting' : 'ok');
  }
  // /log?line=… writes the line to the instance's output: tests of \`logs --follow\` make output on demand.
  if (req.url.startsWith('/log?')) {
    console.log(new URL(req.url, 'http://x').searchParams.get('line'));
    res.writeHead(200);
    return res.end('logged ' + VERSION);
  }
  if (req.url.startsWith('/slow')) {
    // note=…: said on the instance's output as the request arrives, so a test knows it is in flight.
    const note = new URL(req.url, 'http://x').searchParams.get('note');
    if (note) console.log(note);
    return setTimeout(() => { res.writeHead(200); res.end('slow ' + VERSION); }, Number(new URL(req.url, 'http://x').searchParams.get('ms') || 500));
  }
  // hello-30 fails 3 in 10 requests to /api/hello; health, / and the smoke tests are fine.
  if (req.url === '/api/hello') {
    if (MODE === 'hello-30' && ++served % 10 < 3) { res.writeHead(500); return res.end('hello failed ' + VERSION); }
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok hello ' + VERSION);
  }
  if (MODE === 'broken-page') { res.writeHead(500); return res.end('internal error ' + VERSION); }
  // flaky-20 fails one request in five once it takes traffic (smoke and health checks pass).
  if (MODE === 'flaky-20' && req.headers['user-agent'] !== 'ccom-smoke' && ++served % 5 === 0) { res.writeHead(500); return res.end('flaky ' + VERSION); }
  if (MODE === 'slow-300' && req.headers['user-agent'] !== 'ccom-smoke') {
    return setTimeout(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok ' + VERSION); }, 300);
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok ' + VERSION);
  // crash-on-traffic passes health and smoke checks, then dies after its 50th user request.
  if (MODE === 'crash-on-traffic' && req.headers['user-agent'] !== 'ccom-smoke' && ++served === 50) process.exit(7);
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening', process.env.PORT, VERSION));
if (MODE === 'crash-after-boot') setTimeout(() => process.exit(7), 1500);
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;
}

/** Running (not zombie) processes whose working directory is `dir` or inside it, after a grace period. */
export async function processesUnder(dir: string | string[], graceMs = 2000): Promise<number[]> {
  const dirs = Array.isArray(dir) ? dir : [dir];
  const scan = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z' && dirs.some((d) => isInside(readlinkSync(`/proc/${p}/cwd`), d));
        } catch {
          return false;
        }
      })
      .map(Number);
  const deadline = Date.now() + graceMs;
  let found = scan();
  while (found.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    found = scan();
  }
  return found;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return 'gone';
  }
}

function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

export interface FixtureApp {
  dir: string;
  /** Its CCOM_HOME (a temp dir of its own) and its state dir there. */
  home: string;
  state: string;
  /** Rewrites the app's source: the next deploy makes a release of this version and mode. */
  write(version: string, mode?: AppMode): void;
  config(extra?: string): void;
  /** Stops the agent and instances (by the agent's pid as a fallback) and removes the dir and its home. */
  cleanup(): Promise<void>;
}

/**
 * Tests not about the post-switch watch turn it off: they expect the old set stopped when a
 * deploy returns, as before the watch existed.
 */
const WATCH_OFF = 'analysis:\n  watch: 0\n';

export const BASE_CONFIG = `app: fixture
start: node server.js
instances: 2
health:
  path: /healthz
  interval: 200ms
  timeout: 5s
smoke:
  - path: /
    status: 200
    contains: ok
proxy:
  port: 0
monitoring:
  port: 0
drainTimeout: 5s
stopTimeout: 3s
${WATCH_OFF}`;

/** BASE_CONFIG plus `extra`, whose own `analysis:` section gets `watch: 0` unless it sets a watch. */
function configText(extra: string): string {
  if (!/^analysis:/m.test(extra)) return BASE_CONFIG + extra;
  const base = BASE_CONFIG.replace(WATCH_OFF, '');
  return base + (/^ {2}watch:/m.test(extra) ? extra : extra.replace(/^analysis:\n/m, WATCH_OFF));
}

export function fixtureApp(version = 'v1'): FixtureApp {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-app-'));
  const home = mkdtempSync(join(tmpdir(), 'ccom-home-'));
  setCcomHome(dir, home);
  // For this test process too (it opens the app's Store itself in some tests).
  pinStateDir(dir, join(home, 'apps', 'fixture'));
  const app: FixtureApp = {
    dir,
    home,
    get state() {
      return stateOf(dir);
    },
    write(v, mode = 'ok') {
      writeFileSync(join(dir, 'server.js'), serverSource(v, mode));
    },
    config(extra = '') {
      writeFileSync(join(dir, 'ccom.yaml'), configText(extra));
    },
    async cleanup() {
      const pidFile = join(app.state, 'agent.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8'));
        await runCcom(['down', '-C', dir]).catch(() => undefined);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already stopped by down */
        }
      }
      // `down` must leave no instance behind: any process still running in this app's
      // directory or its state dir (releases) is a leak. It is killed (by pid, ours) and the test fails.
      const leaked = await processesUnder([dir, home]);
      const described = leaked.map((pid) => `${pid} (${commandOf(pid)})`);
      for (const pid of leaked) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
      if (leaked.length) throw new Error(`ccom down left ${leaked.length} process(es) running in ${dir} or ${home}: ${described.join('; ')}`);
    },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', version: '1.0.0', private: true }));
  app.write(version);
  app.config();
  return app;
}
