import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/free-port.js';
import { startService, type Service } from './service.js';

const CANDIDATES = [process.env.NGINX_BIN, '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];

/** The nginx binary to compare against (NGINX_BIN, or the Debian package's), if installed. */
export function findNginx(): string | undefined {
  return CANDIDATES.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
}

/**
 * The reference reverse proxy setup: one worker (ccom's proxy is one Node process), a keep-alive
 * pool to the app, HTTP/1.1 upstream with the Connection header cleared, no access log.
 */
function config(dir: string, listenPort: number, upstreamPort: number, tls?: NginxTls): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
  }
${tls ? tlsServer(listenPort, tls) : plainServer(listenPort)}}
`;
}

function plainServer(listenPort: number): string {
  return `  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
`;
}

/** Certificate files and the name nginx terminates TLS for (the TLS benchmark's server block). */
export interface NginxTls {
  cert: string;
  key: string;
  serverName: string;
}

/**
 * The plain block, over TLS: the same certificate and versions as ccom's site (TLS 1.2 and 1.3,
 * session tickets on as Node's default), the x-forwarded-for/-proto pair ccom also sends, and no
 * cap on requests per client connection (nginx closes one after 1,000; ccom does not), so
 * keep-alive runs measure no handshakes on one peer only.
 */
function tlsServer(listenPort: number, tls: NginxTls): string {
  return `  server {
    listen 127.0.0.1:${listenPort} ssl;
    server_name ${tls.serverName};
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
`;
}

/** nginx in the foreground with a private prefix (config, pid, logs, temp dirs in a temp dir); HTTPS with `tls`. */
export async function startNginx(bin: string, upstreamPort: number, tls?: NginxTls): Promise<Service & { port: number }> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ccom-bench-nginx-')));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config(dir, port, upstreamPort, tls));
  try {
    // -e: the error log from the first moment, before the config names one (else /var/log/nginx).
    const service = await startService('nginx', bin, ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf, '-g', 'daemon off;'], { readyPort: port });
    return {
      pid: service.pid,
      port,
      describe: service.describe,
      stop: async () => {
        await service.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
