import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/free-port.js';
import { startService, type Service } from './service.js';

/**
 * The one app every peer serves, so the peers differ only in what stands in front of it: a fixed
 * small body on every path, PORT from the environment, and a graceful stop on SIGTERM (ccom) and on
 * SIGINT (what PM2 sends by default), so neither manager is handicapped by the app's signal handling.
 */
const SERVER = `'use strict';
const http = require('node:http');
const body = process.env.BODY_BYTES ? Buffer.alloc(Number(process.env.BODY_BYTES), 'x') : Buffer.from('hello from the bench app\\n');
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.listen(Number(process.env.PORT), '127.0.0.1');
const stop = () => { server.close(() => process.exit(0)); server.closeIdleConnections(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`;

/** ccom.yaml: no gates, no build, quick health polling; public and admin ports picked free. */
const config = (instances: number) => `app: bench-peer
start: node server.js
instances: ${instances}
health:
  path: /healthz
  interval: 100ms
  timeout: 15s
proxy:
  port: 0
monitoring:
  port: 0
`;

/** Writes the app (server.js, package.json, ccom.yaml) into a fresh, resolved temp dir. */
export function makeOriginApp(instances: number): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ccom-bench-peer-')));
  writeFileSync(join(dir, 'server.js'), SERVER);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-peer', version: '1.0.0', private: true }));
  writeFileSync(join(dir, 'ccom.yaml'), config(instances));
  return dir;
}

/** Runs the app in `dir` directly (`node server.js`) on a free port; `bodyBytes` sizes its answer. */
export async function startOriginApp(dir: string, bodyBytes?: number): Promise<Service & { port: number }> {
  const port = await freePort();
  const env = { PORT: String(port), ...(bodyBytes === undefined ? {} : { BODY_BYTES: String(bodyBytes) }) };
  const service = await startService('bench app', process.execPath, ['server.js'], { cwd: dir, env, readyPort: port });
  return { ...service, port };
}
