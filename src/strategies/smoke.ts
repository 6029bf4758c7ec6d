import type { Config, SmokeCheck } from '../config/types.js';
import { CheckFailed } from '../pipeline/failures.js';
import type { ProbeRequest, ProbeResponse } from '../targets/types.js';

type Send = (req: ProbeRequest) => Promise<ProbeResponse>;

/** With no smoke tests configured, the health route through the proxy is the least we check. */
export function smokeChecks(config: Config): SmokeCheck[] {
  if (config.smoke.length > 0) return config.smoke;
  return [{ path: config.health.path, method: 'GET', status: 200 }];
}

/** Runs every check; the first failure throws, naming the request, what was expected and what came back. */
export async function runSmoke(checks: SmokeCheck[], send: Send, where: string): Promise<string> {
  for (const check of checks) {
    let res: ProbeResponse;
    try {
      res = await send({ method: check.method, path: check.path });
    } catch (err) {
      throw new CheckFailed(`smoke test ${check.method} ${check.path} (${where}) got no answer: ${(err as Error).message}`);
    }
    const expected = `${check.status}${check.contains ? ` containing "${check.contains}"` : ''}`;
    const statusOk = res.status === check.status;
    const bodyOk = !check.contains || res.body.includes(check.contains);
    if (!statusOk || !bodyOk) {
      const seen = `${res.status} "${snippet(res.body)}"`;
      throw new CheckFailed(`smoke test ${check.method} ${check.path} (${where}) expected ${expected}, got ${seen}`);
    }
  }
  return `${checks.length} check${checks.length === 1 ? '' : 's'} passed`;
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 80)}…` : flat;
}
