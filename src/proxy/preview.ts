import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { errorCode, respondText, upstreamFailure } from './failure.js';
import type { CompiledRelease } from './routing-table.js';
import type { UpstreamState } from './upstream-state.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the proxy sets itself. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
]);
const RETRY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Previews are rare (smoke tests, a person checking a release): node:http's client is plenty. */
const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1_000, maxSockets: 16 });

function requestHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-')) continue;
    const value = raw[i + 1] as string;
    const joiner = lower === 'cookie' ? '; ' : ', ';
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}${joiner}${value}`;
  }
  if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
  const earlier = req.headers['x-forwarded-for'];
  const client = req.socket.remoteAddress ?? 'unknown';
  headers['x-forwarded-for'] = earlier === undefined ? client : `${String(earlier)}, ${client}`;
  headers['x-forwarded-proto'] = 'http';
  if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
  return headers;
}

function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase();
    if (lower === 'connection' || lower === 'keep-alive' || lower === 'transfer-encoding' || lower.startsWith('proxy-')) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

/**
 * Sends a preview request to one release's instances, whatever its weight: another instance
 * of the release is tried when one refuses a body-less request. Preview traffic is not counted
 * in the release's metrics, so smoke tests do not sway a canary's analysis.
 */
export function forwardPreview(req: IncomingMessage, res: ServerResponse, path: string, release: CompiledRelease): void {
  const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0' || req.headers['transfer-encoding'] !== undefined;
  const headers = requestHeaders(req);
  const tried = new Set<UpstreamState>();
  const attempt = (state: UpstreamState): void => {
    tried.add(state);
    state.begin();
    let ended = false;
    const done = () => {
      if (!ended) state.end();
      ended = true;
    };
    const { host, port } = state.upstream;
    const out = http.request({ host, port, method: req.method, path, headers, agent }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, responseHeaders(upstreamRes.rawHeaders));
      upstreamRes.pipe(res);
      upstreamRes.on('end', done);
      upstreamRes.on('error', () => {
        done();
        res.destroy();
      });
    });
    res.once('close', () => {
      if (ended) return;
      out.destroy();
      done();
    });
    out.on('error', (err) => {
      done();
      if (res.headersSent) return void res.destroy();
      const code = errorCode(err);
      const next = !hasBody && code !== undefined && RETRY_CODES.has(code) ? release.pickUntried(tried) : undefined;
      if (next !== undefined) return attempt(next);
      respondText(res, upstreamFailure(err, state.upstream));
    });
    if (hasBody) req.pipe(out);
    else out.end();
  };
  const first = release.pickUpstream();
  if (first === undefined) {
    return respondText(res, { status: 503, body: `release ${release.id} has no instance\n`, tag: 'no-upstream' });
  }
  attempt(first);
}
