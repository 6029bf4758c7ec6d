import { AGENT_START_FAILED, spawnGuardedAgent } from '../../agent/guardian.js';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';
import { tailFile } from '../../agent/log-tail.js';
import { socketRequest } from './agent-client.js';
import { ensureStateDir, type LocalPaths } from './paths.js';

const START_TIMEOUT_MS = 15_000;

declare const __CCOM_BUILD__: string;
const BUILD = typeof __CCOM_BUILD__ === 'string' ? __CCOM_BUILD__ : 'dev';

async function pingAgent(paths: LocalPaths): Promise<{ pid: number; build: string } | undefined> {
  try {
    const res = await socketRequest(paths.socket, 'GET', '/v1/ping', undefined, 2000);
    return res.status === 200 ? (JSON.parse(res.body) as { pid: number; build: string }) : undefined;
  } catch {
    return undefined;
  }
}

async function ping(paths: LocalPaths): Promise<boolean> {
  const agent = await pingAgent(paths);
  return agent !== undefined && agent.build === BUILD;
}

/**
 * An agent started by another build of ccom (after an upgrade) hands over to this build's agent:
 * the new one inherits the listening public socket, so no connection is refused. An agent too
 * old to hand over is asked to step down instead; either way the instances keep running and are
 * adopted.
 */
async function replaceOutdated(paths: LocalPaths, agentScript: string): Promise<void> {
  const agent = await pingAgent(paths);
  if (!agent || agent.build === BUILD) return;
  const answer = await socketRequest(paths.socket, 'POST', '/v1/handover', { agentScript }, 30_000).catch(() => undefined);
  if (answer?.status === 200) {
    for (let i = 0; i < 200 && !(await ping(paths)); i++) await new Promise((r) => setTimeout(r, 25));
    return;
  }
  try {
    process.kill(agent.pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && (await pingAgent(paths)); i++) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Makes sure this app's agent runs, starting it if needed (first use, or after it was killed).
 * It is detached from the CLI: it keeps serving after the command exits.
 */
export async function ensureAgent(appDir: string, paths: LocalPaths): Promise<void> {
  if (await ping(paths)) return;
  const agentScript = fileURLToPath(new URL('./agent.js', import.meta.url));
  await replaceOutdated(paths, agentScript);
  if (await ping(paths)) return;
  ensureStateDir(paths);
  const out = openSync(paths.agentLog, 'a', 0o600);
  let exited: string | undefined;
  try {
    const child = spawnGuardedAgent({ appDir, agentScript, stdio: ['ignore', out, out] });
    child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : code === AGENT_START_FAILED ? 'it could not start' : `exit code ${code}`));
    child.unref();
  } finally {
    closeSync(out);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await ping(paths)) return;
    // Exit code 0 means another agent won the race to start; keep pinging that one.
    if (exited !== undefined && exited !== 'exit code 0') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new UserError(`the ccom agent for ${appDir} did not start${exited ? ` (${exited})` : ` within ${START_TIMEOUT_MS}ms`}`, {
    fix: `look at ${paths.agentLog}, then run the command again`,
    detail: tailFile(paths.agentLog, 15),
  });
}
