import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNotInterrupted } from './proc.js';

/** A tiny real HTTP app (CommonJS, no dependencies): `/` answers `ok`, `/healthz` 200, SIGTERM drains. */
const SERVER = `const http = require('node:http');
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(req.url === '/healthz' ? 'healthy' : 'ok ' + (process.env.CCOM_RELEASE || 'dev'));
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
process.on('SIGINT', () => process.exit(0));
`;

// No gates, no build: what is left is ccom's own work plus the app's boot. A short health
// interval keeps the boot wait (which is the app's time, not ccom's) close to the real boot.
const CONFIG = `app: bench
start: node server.js
instances: 2
health:
  path: /healthz
  interval: 100ms
  timeout: 15s
proxy:
  port: 0
monitoring:
  port: 0
`;

/** Creates the fixture app in a fresh temp dir (resolved, so /proc cwd matching is exact). */
export function makeFixtureApp(prefix = 'ccom-bench-app-'): string {
  assertNotInterrupted('a fixture app');
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  writeFileSync(join(dir, 'server.js'), SERVER);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', private: true }));
  writeFileSync(join(dir, 'ccom.yaml'), CONFIG);
  return dir;
}
