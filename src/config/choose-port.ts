import { isPortFree } from '../gates/port.js';

/** The public port `init` writes: 8080 when free, else the next free one, so a second app just works. */
export const FIRST_PROXY_PORT = 8080;
const LAST_PROXY_PORT = 8179;

/**
 * The first port from 8080 that nothing listens on now and no other ccom app of this user claims
 * (`claimed`: apps that are down right now still own their port). Undefined when all are taken.
 */
export async function chooseProxyPort(host: string, claimed: ReadonlySet<number> = new Set()): Promise<number | undefined> {
  for (let port = FIRST_PROXY_PORT; port <= LAST_PROXY_PORT; port++) {
    if (claimed.has(port)) continue;
    if (await isPortFree(host, port)) return port;
  }
  return undefined;
}
