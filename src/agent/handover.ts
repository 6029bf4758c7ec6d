import type { ChildProcess } from 'node:child_process';
import { killGuardedAgent, spawnGuardedAgent } from './guardian.js';
import { closeSync, openSync } from 'node:fs';
import type { AgentCore } from './core.js';
import { listeningFd } from './held-socket.js';

/** Messages between the agent handing over and the one taking over (an IPC channel). */
type ToNew = { t: 'public'; host: string; port: number } | { t: 'released' };
type ToOld = { t: 'ready' } | { t: 'listening' } | { t: 'failed'; message: string };

const STEP_TIMEOUT_MS = 15_000;

function next<T>(channel: NodeJS.Process | ChildProcess, want: string, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${STEP_TIMEOUT_MS}ms`)), STEP_TIMEOUT_MS);
    const onMessage = (message: { t: string; message?: string }) => {
      if (message.t !== want && message.t !== 'failed') return;
      clearTimeout(timer);
      channel.off('message', onMessage);
      if (message.t === 'failed') reject(new Error(message.message));
      else resolve(message as T);
    };
    channel.on('message', onMessage);
  });
}

/**
 * Old agent's side of an upgrade: starts the new build's agent, gives it the listening public
 * socket, and steps down only once the new agent accepts on it — so no connection is refused.
 * `release` closes this agent's control socket and pid file; the caller then exits once its
 * own in-flight requests finished.
 */
export async function handOver(core: AgentCore, agentScript: string, logFile: string, release: () => Promise<void>): Promise<number> {
  const server = core.listener.handle();
  const bound = core.listener.address();
  const out = openSync(logFile, 'a', 0o600);
  // The new agent runs under its own guardian; the IPC channel passes through it to the agent.
  // That guardian holds the public socket too, so the new agent's own restarts refuse nothing.
  const fd = server ? listeningFd(server) : undefined;
  const held = fd !== undefined && bound ? { ...bound, fd } : undefined;
  const child = spawnGuardedAgent({ appDir: core.appDir, agentScript, stdio: ['ignore', out, out, 'ipc'], handover: true, held });
  closeSync(out);
  try {
    await next<ToOld>(child, 'ready', 'ready message from the new agent');
    if (server && bound) {
      child.send({ t: 'public', ...bound } satisfies ToNew, server);
      await next<ToOld>(child, 'listening', 'listening message from the new agent');
    }
  } catch (err) {
    killGuardedAgent(child);
    throw err;
  }
  // From here the new agent accepts too: this one stops, lets open requests finish, lets go.
  core.supervisor.close();
  await core.monitoring.close();
  await release();
  child.send({ t: 'released' } satisfies ToNew);
  child.disconnect();
  child.unref();
  return child.pid ?? 0;
}

/**
 * New agent's side: called after recover({ bind: false }) so the routing table is complete
 * before the first connection is accepted on the inherited socket.
 */
export async function takeOver(core: AgentCore): Promise<void> {
  const send = (message: ToOld) => process.send?.(message);
  try {
    const inherited = new Promise<{ message: ToNew; handle: object | undefined }>((resolve) => {
      process.once('message', (message: ToNew, handle: object | undefined) => resolve({ message, handle }));
    });
    send({ t: 'ready' });
    const { message, handle } = await inherited;
    if (message.t === 'public' && handle) {
      await core.listener.adopt(handle, { host: message.host, port: message.port });
      send({ t: 'listening' });
      await next<ToNew>(process, 'released', 'release from the old agent');
    }
  } catch (err) {
    send({ t: 'failed', message: (err as Error).message });
    throw err;
  }
  process.disconnect?.();
}
