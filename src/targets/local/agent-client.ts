import { request, type IncomingMessage } from 'node:http';
import { UserError } from '../../errors.js';
import type { ProbeResponse } from '../types.js';

export interface AgentErrorBody {
  error: { message: string; detail?: string; fix?: string };
}

/** An error the agent answered with (a failed boot, a port in use); carries its detail. */
export class AgentError extends Error {
  /** Output shown under the failure (an instance's last log lines). */
  readonly detail: string | undefined;
  readonly fix: string | undefined;

  constructor(readonly status: number, readonly body: AgentErrorBody['error']) {
    super(body.message);
    this.name = 'AgentError';
    this.detail = body.detail;
    this.fix = body.fix;
  }
}

/** Reads a whole (small) response: status, body text and headers. */
export function collectResponse(res: IncomingMessage): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () =>
      resolve({
        status: res.statusCode ?? 0,
        body: Buffer.concat(chunks).toString('utf8'),
        headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
      }),
    );
    res.on('error', reject);
  });
}

/** Raw HTTP request over the agent's unix socket. */
export function socketRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 0,
): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        // Preview requests reach the app with this agent string, so apps can tell smoke tests apart.
        headers: payload ? { 'user-agent': 'ccom-smoke', 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : { 'user-agent': 'ccom-smoke' },
      },
      (res) => collectResponse(res).then(resolve, reject),
    );
    if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from the agent within ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * How long a call waits for an agent that is being started again: its guardian brings a
 * crashed agent back in well under a second, and a deploy in progress should ride that out.
 */
const AGENT_RESTART_WAIT_MS = 5_000;
/** Nobody listens on the socket (yet): nothing was sent, so any call can be tried again. */
const NOT_LISTENING = new Set(['ECONNREFUSED', 'ENOENT']);

async function requestRidingRestarts(socketPath: string, method: string, path: string, body?: unknown): Promise<ProbeResponse> {
  const deadline = Date.now() + AGENT_RESTART_WAIT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 250)) {
    try {
      return await socketRequest(socketPath, method, path, body);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A read (GET) cut by an agent that died while answering is safe to ask the next agent again.
      const retriable = code !== undefined && (NOT_LISTENING.has(code) || (code === 'ECONNRESET' && method === 'GET'));
      if (!retriable || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** JSON call to the control API; agent errors become AgentError, a dead socket a UserError. */
export async function callAgent<T>(socketPath: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: ProbeResponse;
  try {
    res = await requestRidingRestarts(socketPath, method, path, body);
  } catch (err) {
    throw new UserError(`lost contact with the ccom agent (${(err as Error).message})`, {
      fix: 'run the command again; the agent restarts on demand and re-adopts running instances',
    });
  }
  const parsed = res.body ? (JSON.parse(res.body) as T | AgentErrorBody) : ({} as T);
  if (res.status >= 400) {
    const error = (parsed as AgentErrorBody).error ?? { message: `agent answered HTTP ${res.status}` };
    throw new AgentError(res.status, error);
  }
  return parsed as T;
}
