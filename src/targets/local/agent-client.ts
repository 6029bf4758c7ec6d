import { existsSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { UserError } from '../../errors.js';
import type { ProbeResponse } from '../types.js';

export interface AgentErrorBody {
  error: { message: string; detail?: string; fix?: string };
}

/**
 * An error the agent answered with (a failed boot, a port in use): a UserError carrying the
 * agent's own message, fix and detail, so the user sees what the agent knows rather than "a bug".
 */
export class AgentError extends UserError {
  /** The agent's own fix, when it gave one: more precise than any caller's "read the logs". */
  readonly ownFix: string | undefined;

  constructor(readonly status: number, readonly body: AgentErrorBody['error']) {
    super(body.message, { fix: body.fix ?? (status >= 500 ? AGENT_BUG_FIX : AGENT_ERROR_FIX), detail: body.detail });
    this.name = 'AgentError';
    this.ownFix = body.fix;
  }
}

/** For agent errors without a fix of their own (a failed boot: its output is the detail). */
const AGENT_ERROR_FIX = 'read the output above and `ccom logs`, fix the cause, then run the command again';
/** The agent answers 500 only for what it did not expect: its stack is in the agent's log. */
const AGENT_BUG_FIX = 'this is a bug in the ccom agent: please report it with logs/agent.log from the state dir of the app ($CCOM_HOME/apps/<app>/)';

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
/** The agent died with the call in flight: it may or may not have acted, so only idempotent calls are sent again. */
const LOST_IN_FLIGHT = new Set(['ECONNRESET', 'EPIPE']);

/** Where an app's agent answers, and its pid file, which says whether one was running. */
export interface AgentAddress {
  socket: string;
  pidFile?: string;
}

/**
 * Whether an agent that does not answer may be coming back, so waiting for it makes sense: its
 * pid file is there (it died and its guardian starts it again, or a new agent is between
 * binding and listening). Without one, no agent was ever started or `down` stopped it: waiting
 * would only delay the first deploy and `doctor`. An address without a pid file always waits.
 */
function agentMayComeBack(agent: AgentAddress): boolean {
  return agent.pidFile === undefined || existsSync(agent.pidFile);
}

/** CCOM_DEBUG=agent-client prints each wait for the agent on stderr (tests assert on it). */
function debugWait(agent: AgentAddress, code: string, delayMs: number): void {
  if (process.env.CCOM_DEBUG?.split(',').includes('agent-client')) {
    process.stderr.write(`ccom debug: agent at ${agent.socket} not answering (${code}); waiting ${delayMs}ms for it to come back\n`);
  }
}

/** A request over the agent's socket that waits for an agent being started again (see callAgent). */
export async function requestRidingRestarts(address: string | AgentAddress, method: string, path: string, body: unknown, idempotent: boolean, timeoutMs = 0): Promise<ProbeResponse> {
  const agent = typeof address === 'string' ? { socket: address } : address;
  const deadline = Date.now() + AGENT_RESTART_WAIT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 250)) {
    try {
      return await socketRequest(agent.socket, method, path, body, timeoutMs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const retriable = (NOT_LISTENING.has(code) && agentMayComeBack(agent)) || (idempotent && LOST_IN_FLIGHT.has(code));
      if (!retriable || Date.now() + delay > deadline) throw err;
      debugWait(agent, code, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** The agent went away while a call that is not safe to repeat was in flight. */
export class AgentLostMidCall extends UserError {}

/**
 * JSON call to the control API; agent errors become AgentError, a dead socket a UserError.
 * `idempotent` (the default for GET) calls are sent again to the restarted agent when the
 * previous one died with them in flight: setting weights or a lease, stopping instances.
 */
export async function callAgent<T>(agent: string | AgentAddress, method: string, path: string, body?: unknown, opts: { idempotent?: boolean } = {}): Promise<T> {
  let res: ProbeResponse;
  const idempotent = opts.idempotent ?? method === 'GET';
  try {
    res = await requestRidingRestarts(agent, method, path, body, idempotent);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const Lost = !idempotent && LOST_IN_FLIGHT.has(code) ? AgentLostMidCall : UserError;
    throw new Lost(`lost contact with the ccom agent (${(err as Error).message})`, {
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
