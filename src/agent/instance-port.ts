import { readFileSync } from 'node:fs';
import { findFreePort, isPortFree } from '../gates/port.js';

/** Lowest port handed to instances. */
const LOWEST = 20_000;
const ATTEMPTS = 50;

/** The kernel's ephemeral port range: where port 0 binds and outgoing connections come from. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A free port for a new instance, picked below the ephemeral range. A port from that range
 * (what binding to port 0 gives) can be taken by any outgoing connection on the machine, the
 * proxy's own to instances included, in the moment between finding it free and the app
 * binding it; below the range only another listener can take it.
 */
export async function findInstancePort(host = '127.0.0.1'): Promise<number> {
  const highest = ephemeralLow() - 1;
  if (highest - LOWEST < 1_000) return findFreePort(host);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (highest - LOWEST + 1));
    if (await isPortFree(host, port)) return port;
  }
  return findFreePort(host);
}

/** Written to an instance's log before it boots again on another port. */
export const PORT_RETRY_MARK = 'ccom: the port was taken before the app listened; starting again on another port';

/**
 * The app's boot output (since the last retry) says its port was taken: node, Python, Go and
 * Ruby word it like this.
 */
export function portTakenOnBoot(output: string): boolean {
  const latest = output.slice(output.lastIndexOf(PORT_RETRY_MARK) + 1);
  return /EADDRINUSE|address already in use/i.test(latest);
}
