import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request, type Agent } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { BASE_CONFIG, type FixtureApp } from './fixture-app.js';

/** An app that says which scheme the proxy told it the client used (x-forwarded-proto). */
export function writeProtoApp(app: FixtureApp, version: string): void {
  writeFileSync(
    join(app.dir, 'server.js'),
    `const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200); return res.end('ok'); }
  if (req.url === '/xff') return res.end(String(req.headers['x-forwarded-for']));
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok ${version} proto=' + req.headers['x-forwarded-proto']);
});
// A WebSocket-like tunnel: 101, then every chunk echoed.
server.on('upgrade', (req, socket) => {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nupgrade: websocket\\r\\nconnection: upgrade\\r\\n\\r\\n');
  socket.on('data', (d) => socket.write('echo ' + d));
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`,
  );
}

/** ccom.yaml for HTTPS on `port` with ACME from `directory`, plain HTTP (challenges) on `httpPort`. */
export function writeTlsConfig(app: FixtureApp, o: { port: number; httpPort: number; directory: string; caFile: string }): void {
  const config = BASE_CONFIG.replace('proxy:\n  port: 0\n', `proxy:\n  port: ${o.port}\n  httpPort: ${o.httpPort}\n`);
  writeFileSync(
    join(app.dir, 'ccom.yaml'),
    `${config}domains: [shop.test, www.shop.test]\ntls:\n  acme:\n    email: ops@shop.test\n    directory: ${o.directory}\n    caFile: ${o.caFile}\n`,
  );
}

/** curl as a user would run it: https://<name>:<port><path> resolved to 127.0.0.1, trusting `cacert`. */
export function curl(name: string, port: number, path: string, cacert: string, extra: string[] = []): { code: number; out: string } {
  try {
    const out = execFileSync('curl', ['-sS', '--max-time', '10', '--cacert', cacert, '--resolve', `${name}:${port}:127.0.0.1`, ...extra, `https://${name}:${port}${path}`], { encoding: 'utf8' });
    return { code: 0, out };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
}

export interface TlsAnswer {
  status: number;
  body: string;
  serial: string;
  /** The connection was reused (keep-alive). */
  reused: boolean;
}

/** One GET to shop.test over TLS to 127.0.0.1:port, through `agent` (keep-alive) or a new connection. */
export function tlsGet(port: number, ca: string | Buffer, agent: Agent | false, path = '/', servername = 'shop.test'): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername, ca, agent, headers: { host: `${servername}:${port}` } }, (res) => {
      // Read now: a kept-alive socket goes back to the agent (res.socket null) once the body ended.
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial, reused: req.reusedSocket }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10s')));
    req.on('error', reject);
    req.end();
  });
}

/** ccom.yaml for an app called `name` serving `domains` over HTTPS on `port` (ACME from pebble), plus `extra` keys. */
export function writeSiteConfig(app: FixtureApp, o: { name: string; domains: string[]; port: number; httpPort: number; directory: string; caFile: string; extra?: string }): void {
  // `extra` with its own analysis section (which then says its watch) replaces the base's.
  const base = /^analysis:/m.test(o.extra ?? '') ? BASE_CONFIG.replace('analysis:\n  watch: 0\n', '') : BASE_CONFIG;
  const config = base.replace('app: fixture', `app: ${o.name}`).replace('proxy:\n  port: 0\n', `proxy:\n  port: ${o.port}\n  httpPort: ${o.httpPort}\n`);
  writeFileSync(
    join(app.dir, 'ccom.yaml'),
    `${config}domains: [${o.domains.join(', ')}]\ntls:\n  acme:\n    email: ops@${o.domains[0]}\n    directory: ${o.directory}\n    caFile: ${o.caFile}\n${o.extra ?? ''}`,
  );
}
