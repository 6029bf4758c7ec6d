import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserError } from '../errors.js';
import type { AgentCore } from './core.js';
import { FlagChangeError, type FlagAction } from './flags-service.js';
import type { GuardRecord } from './flags-state.js';
import { readJson, sendError, sendJson } from './json-http.js';

/** The control routes of `ccom flags` (`/v1/flags…` on the agent's socket). */
export function isFlagsRoute(route: string): boolean {
  return / \/v1\/flags(\/|$)/.test(route);
}

export async function handleFlags(core: AgentCore, route: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  switch (route) {
    case 'GET /v1/flags':
      return sendJson(res, 200, core.flags.list());
    case 'POST /v1/flags/change': {
      const { flag, action, by, reason } = await readJson<{ flag: string; action: FlagAction; by: string; reason?: string }>(req);
      try {
        return sendJson(res, 200, core.flags.change(flag, action, by, reason));
      } catch (err) {
        if (err instanceof FlagChangeError) throw new UserError(err.message, { fix: err.fix });
        throw err;
      }
    }
    case 'POST /v1/flags/guard':
      core.flags.guard((await readJson<{ guard: GuardRecord | null }>(req)).guard);
      return sendJson(res, 200, {});
    case 'POST /v1/flags/decision': {
      const { flag, decision } = await readJson<{ flag: string; decision: 'promote' | 'abort' }>(req);
      try {
        core.flags.decide(flag, decision);
      } catch (err) {
        if (err instanceof FlagChangeError) throw new UserError(err.message, { fix: err.fix });
        throw err;
      }
      return sendJson(res, 200, {});
    }
    case 'GET /v1/flags/metrics':
      return sendJson(res, 200, core.flags.metrics());
    default:
      return sendError(res, 404, `unknown control route ${route}`);
  }
}
