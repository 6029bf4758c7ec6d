import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Evaluation, EvaluationContext } from '../flags/evaluate.js';
import { isFailure } from '../flags/evaluate.js';
import { murmur3 } from '../flags/murmur3.js';

/** What the OFREP server asks of the agent's flags. */
export interface OfrepBackend {
  evaluate(release: string | undefined, key: string, context: EvaluationContext): Evaluation;
  bulk(release: string | undefined, context: EvaluationContext): Evaluation[];
  /** Changes whenever any answer may change (a new file, an override): part of the ETag. */
  version(release: string | undefined): string;
}

const ROUTE = /^(?:\/releases\/([A-Za-z0-9._-]+))?\/ofrep\/v1\/evaluate\/flags(?:\/([^/?]+))?(?:\?.*)?$/;
const MAX_BODY = 64 * 1024;

/**
 * The OpenFeature Remote Evaluation Protocol for the app's instances, on 127.0.0.1 only (never
 * the public port). Instances get `OFREP_ENDPOINT=http://127.0.0.1:<port>/releases/<release>`,
 * so each release evaluates its own flag file (a canary's new flags never reach the old
 * release); the routes without the prefix use the live release's.
 */
export class OfrepServer {
  private readonly server: Server;

  constructor(private readonly backend: OfrepBackend) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  /** Binds `port` (the one instances already know) or, when it is taken or unset, a free one. */
  async listen(port: number | null, log: (message: string) => void): Promise<number> {
    try {
      return await this.bind(port ?? 0);
    } catch (err) {
      if (port === null) throw err;
      log(`OFREP port 127.0.0.1:${port} is taken (${(err as Error).message}): serving on a new port; running instances reach it after their next deploy`);
      return this.bind(0);
    }
  }

  private bind(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const match = ROUTE.exec(req.url ?? '');
    if (!match || req.method !== 'POST') return send(res, 404, { errorCode: 'GENERAL', errorDetails: `no OFREP route ${req.method} ${req.url}` });
    const release = match[1];
    const key = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    readBody(req)
      .then((text) => {
        const context = contextOf(text);
        if (typeof context === 'string') {
          return send(res, 400, key === undefined ? { errorCode: 'PARSE_ERROR', errorDetails: context } : { key, errorCode: 'PARSE_ERROR', errorDetails: context });
        }
        if (key !== undefined) {
          const result = this.backend.evaluate(release, key, context);
          return send(res, isFailure(result) ? (result.errorCode === 'FLAG_NOT_FOUND' ? 404 : 400) : 200, result);
        }
        const etag = `"${this.backend.version(release)}-${murmur3(text).toString(36)}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag });
          return res.end();
        }
        send(res, 200, { flags: this.backend.bulk(release, context) }, { etag });
      })
      .catch((err: Error) => send(res, 400, { errorCode: 'PARSE_ERROR', errorDetails: err.message }));
  }
}

/** The request's `context`, or what is wrong with the body. */
function contextOf(text: string): EvaluationContext | string {
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'the request body is not JSON';
  }
  if (body === null || typeof body !== 'object') return 'the request body must be an object with "context"';
  const context = (body as { context?: unknown }).context;
  if (context === undefined) return {};
  if (context === null || typeof context !== 'object' || Array.isArray(context)) return '"context" must be an object';
  return context as EvaluationContext;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) return req.destroy(new Error('request body over 64 KB'));
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
