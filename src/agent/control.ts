import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isUserError, messageOf } from '../errors.js';
import type { ConnectOptions, ReleaseSpec, WarmPlan, WatchHandoff } from '../targets/local/wire.js';
import type { AgentCore } from './core.js';
import { readJson, sendError, sendJson } from './json-http.js';
import { BootFailure } from './supervisor.js';
import { handleFlags, isFlagsRoute } from './flags-control.js';
import type { Lease } from './traffic-lease.js';

const PREVIEW_PREFIX = '/v1/preview/';
declare const __CCOM_BUILD__: string;
const BUILD = typeof __CCOM_BUILD__ === 'string' ? __CCOM_BUILD__ : 'dev';

/**
 * The control API, HTTP over a unix socket only the user can open. Long operations (starting
 * a release until healthy, draining) answer when done; the CLI waits on them.
 */
export interface ControlHooks {
  /** Starts the given agent script and hands it the public socket; resolves with its pid. */
  handOver(agentScript: string): Promise<number>;
}

export function createControlServer(core: AgentCore, hooks: ControlHooks): Server {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith(PREVIEW_PREFIX)) return preview(core, url, req, res);
    handle(core, hooks, req, res).catch((err) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof BootFailure) return sendError(res, 422, err.message, { detail: err.detail, fix: err.fix });
      if (isUserError(err)) return sendError(res, 409, err.message, { fix: err.fix, detail: err.detail });
      core.log(`control API error on ${req.method} ${url}: ${(err as Error).stack ?? messageOf(err)}`);
      sendError(res, 500, `agent error: ${messageOf(err)}`);
    });
  });
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  return server;
}

async function handle(core: AgentCore, hooks: ControlHooks, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
  if (isFlagsRoute(route)) return handleFlags(core, route, req, res);
  switch (route) {
    case 'GET /v1/ping':
      return sendJson(res, 200, { pid: process.pid, appDir: core.appDir, build: BUILD });
    case 'GET /v1/status':
      return sendJson(res, 200, core.status());
    case 'GET /v1/metrics':
      return sendJson(res, 200, core.metrics());
    case 'POST /v1/configure':
      return sendJson(res, 200, { url: await core.configure(await readJson<ConnectOptions>(req)) });
    case 'POST /v1/instances': {
      const { spec, count } = await readJson<{ spec: ReleaseSpec; count: number }>(req);
      return sendJson(res, 200, { instances: await core.startInstances(spec, count) });
    }
    case 'POST /v1/warm': {
      const { release, plan } = await readJson<{ release: string; plan: WarmPlan }>(req);
      return sendJson(res, 200, await core.warm(release, plan));
    }
    case 'POST /v1/instances/stop': {
      const { ids, drainTimeoutMs } = await readJson<{ ids: string[]; drainTimeoutMs: number }>(req);
      await core.stopInstances(ids, drainTimeoutMs);
      return sendJson(res, 200, {});
    }
    case 'POST /v1/lease': {
      const { lease } = await readJson<{ lease: Lease | null }>(req);
      if (lease === null) core.lease.release();
      else core.lease.hold(lease);
      return sendJson(res, 200, {});
    }
    case 'POST /v1/watch':
      return sendJson(res, 200, core.startWatch((await readJson<{ handoff: WatchHandoff }>(req)).handoff));
    case 'POST /v1/watch/end':
      core.watch.end((await readJson<{ by: string }>(req)).by);
      return sendJson(res, 200, {});
    case 'GET /v1/watch':
      return sendJson(res, 200, { watch: core.watch.report() });
    case 'POST /v1/weights': {
      const { weights } = await readJson<{ weights: Record<string, number> }>(req);
      core.setWeights(weights);
      return sendJson(res, 200, {});
    }
    case 'POST /v1/handover': {
      const { agentScript } = await readJson<{ agentScript: string }>(req);
      return sendJson(res, 200, { pid: await hooks.handOver(agentScript) });
    }
    case 'POST /v1/shutdown':
      await core.stopEverything();
      sendJson(res, 200, {});
      return void setImmediate(() => core.exit());
    default:
      return sendError(res, 404, `unknown control route ${route}`);
  }
}

/** `/v1/preview/<release>/<path>` reaches one release whatever its weight. */
function preview(core: AgentCore, url: string, req: IncomingMessage, res: ServerResponse): void {
  const rest = url.slice(PREVIEW_PREFIX.length);
  const slash = rest.indexOf('/');
  const release = decodeURIComponent(slash === -1 ? rest : rest.slice(0, slash));
  const path = slash === -1 ? '/' : rest.slice(slash);
  core.router.handlePreview(release, path, req, res);
}
