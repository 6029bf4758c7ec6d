import { AGENT_START_FAILED, spawnGuardedAgent } from '../../agent/guardian.js';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { bindHeldSocket, listeningFd, type HeldAddress } from '../../agent/held-socket.js';
import { readRegularFile } from '../../gates/regular-file.js';
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

/** The public address the last deploy configured, as the agent saved it. */
function savedAddress(paths: LocalPaths): HeldAddress | undefined {
  try {
    const proxy = (JSON.parse(readRegularFile(paths.agentState)) as { options?: { proxy?: HeldAddress } | null }).options?.proxy;
    return proxy && typeof proxy.host === 'string' && Number.isInteger(proxy.port) ? proxy : undefined;
  } catch {
    return undefined; // never deployed, or unreadable: the agent says why when it starts
  }
}

/**
 * Where the new agent will serve: what this deploy asks for, else what the last one set up.
 * A deploy asking for any port (0) keeps the port already in use, as the agent itself would.
 */
function addressesToHold(paths: LocalPaths, wanted: HeldAddress | undefined): HeldAddress[] {
  const saved = savedAddress(paths);
  if (!wanted) return saved ? [saved] : [];
  return wanted.port === 0 && saved?.host === wanted.host ? [saved, wanted] : [wanted];
}

/**
 * Makes sure this app's agent runs, starting it if needed (first use, or after it was killed).
 * It is detached from the CLI: it keeps serving after the command exits. `wanted` is the public
 * address a deploy is about to configure: the guardian is given that socket, bound here, to hold.
 */
export async function ensureAgent(appDir: string, paths: LocalPaths, wanted?: HeldAddress): Promise<void> {
  if (await ping(paths)) return;
  const agentScript = fileURLToPath(new URL('./agent.js', import.meta.url));
  await replaceOutdated(paths, agentScript);
  if (await ping(paths)) return;
  // A guardian is starting this app's agent again (it died moments ago): a second guardian would
  // race it for the pid file and the public port, so wait for its agent instead.
  if (await guardianRestarting(paths)) return;
  ensureStateDir(paths);
  const socket = await bindHeldSocket(addressesToHold(paths, wanted));
  const fd = socket && listeningFd(socket.server);
  const out = openSync(paths.agentLog, 'a', 0o600);
  let exited: string | undefined;
  try {
    const held = socket && fd !== undefined ? { ...socket.address, fd } : undefined;
    const child = spawnGuardedAgent({ appDir, agentScript, stdio: ['ignore', out, out], held });
    child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : code === AGENT_START_FAILED ? 'it could not start' : `exit code ${code}`));
    child.unref();
  } finally {
    closeSync(out);
    // The guardian has its own copy now; this command's must not keep the port open.
    socket?.server.close();
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

/**
 * An agent of this app runs (of any build), or its guardian is starting one again: then
 * `ensureAgent` only reaches (or upgrades) what runs. False after `down`, after a reboot, or
 * before the first deploy: read-only commands must then start nothing.
 */
export async function agentRunning(paths: LocalPaths): Promise<boolean> {
  return (await pingAgent(paths)) !== undefined || guardianOf(paths) !== undefined;
}

/** True once the agent of a live guardian of this app answers; false when there is no such guardian. */
async function guardianRestarting(paths: LocalPaths): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (guardianOf(paths) !== undefined && Date.now() < deadline) {
    if (await ping(paths)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** The pid of a guardian running this app's guardian script, if one runs (Linux /proc). */
function guardianOf(paths: LocalPaths): number | undefined {
  const script = `${paths.stateDir}/agent-guardian.sh`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(script)) return Number(entry);
    } catch {
      /* gone meanwhile */
    }
  }
  return undefined;
}
