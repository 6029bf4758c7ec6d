import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';
import { tailFile } from '../../agent/log-tail.js';
import { socketRequest } from './agent-client.js';
import { ensureStateDir, type LocalPaths } from './paths.js';

const START_TIMEOUT_MS = 15_000;

async function ping(paths: LocalPaths): Promise<boolean> {
  try {
    const res = await socketRequest(paths.socket, 'GET', '/v1/ping', undefined, 2000);
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Makes sure this app's agent runs, starting it if needed (first use, or after it was killed).
 * It is detached from the CLI: it keeps serving after the command exits.
 */
export async function ensureAgent(appDir: string, paths: LocalPaths): Promise<void> {
  if (await ping(paths)) return;
  ensureStateDir(paths);
  const agentScript = fileURLToPath(new URL('./agent.js', import.meta.url));
  const out = openSync(paths.agentLog, 'a', 0o600);
  let exited: string | undefined;
  try {
    const child = spawn(process.execPath, [agentScript, '--dir', appDir], {
      cwd: appDir,
      detached: true,
      stdio: ['ignore', out, out],
    });
    child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
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
