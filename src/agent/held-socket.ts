import { fstatSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/**
 * The public listening socket the guardian holds for its whole life, so that while no agent
 * runs (killed with -9, crashed, being started again) connections wait in the kernel's backlog
 * instead of being refused. Every agent the guardian starts inherits it at this fd (3 may be the
 * handover's IPC channel) and listens on it when it serves that address.
 */
export const HELD_SOCKET_FD = 4;
/** Tells the agent which address the socket at HELD_SOCKET_FD listens on (JSON `{host, port}`). */
export const HELD_SOCKET_ENV = 'CCOM_AGENT_PUBLIC_SOCKET';

export interface HeldAddress {
  host: string;
  port: number;
}

/** The descriptor of a listening net.Server, to pass to a child at HELD_SOCKET_FD. */
export function listeningFd(server: Server): number | undefined {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** The agent's side: what the guardian holds, if anything (read once, then removed from the env). */
export function takeHeldAddress(env: NodeJS.ProcessEnv = process.env): HeldAddress | undefined {
  const raw = env[HELD_SOCKET_ENV];
  delete env[HELD_SOCKET_ENV];
  if (!raw) return undefined;
  try {
    // An agent of an older build passes the variable on without the socket: trust only a socket.
    if (!fstatSync(HELD_SOCKET_FD).isSocket()) return undefined;
    const { host, port } = JSON.parse(raw) as Partial<HeldAddress>;
    return typeof host === 'string' && Number.isInteger(port) ? { host, port: port as number } : undefined;
  } catch {
    return undefined; // fd 4 is not open
  }
}

/**
 * The CLI's side, before it starts a guardian: binds the first address of `candidates` that is
 * free. Undefined when none is: the agent then binds by itself and reports why it cannot
 * (port in use, by whom), exactly as without a held socket.
 */
export async function bindHeldSocket(candidates: HeldAddress[]): Promise<{ server: Server; address: HeldAddress } | undefined> {
  for (const wanted of candidates) {
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ host: wanted.host, port: wanted.port }, () => resolve(true));
    });
    const port = bound ? (server.address() as { port: number } | null)?.port : undefined;
    if (port !== undefined) return { server, address: { host: wanted.host, port } };
    server.close();
  }
  return undefined;
}
