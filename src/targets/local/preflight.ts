import { freeBytes } from '../../gates/disk.js';
import { describePortOwner, isPortFree } from '../../gates/port.js';
import { Blocked } from '../../pipeline/failures.js';

/** Below this, writing logs, history and the next release is likely to fail half-way. */
const MIN_FREE_DISK = 100 * 1024 * 1024;

/**
 * Capacity on this machine: the public port must be free unless our own agent serves it,
 * and the disk holding releases must have room.
 */
export async function localPreflight(proxy: { host: string; port: number }, ourUrl: string | null, releaseDir: string): Promise<string> {
  const ours = ourUrl === `http://${proxy.host}:${proxy.port}`;
  if (proxy.port !== 0 && !ours && !(await isPortFree(proxy.host, proxy.port))) {
    const owner = describePortOwner(proxy.port);
    throw new Blocked(`port ${proxy.port} on ${proxy.host} is in use${owner ? ` by ${owner}` : ' by another program'}`, {
      fix: `stop that program, or set proxy.port in ccom.yaml to a free port (0 picks one)`,
    });
  }
  const free = await freeBytes(releaseDir);
  if (free < MIN_FREE_DISK) {
    throw new Blocked(`only ${(free / 1e6).toFixed(0)} MB of disk free where releases are kept`, {
      fix: 'free some disk space (old releases live in .ccom/releases/) and deploy again',
    });
  }
  const port = proxy.port === 0 ? 'a free port' : `port ${proxy.port} ${ours ? '(ours)' : 'free'}`;
  return `${port}, ${(free / 1e9).toFixed(1)} GB disk free`;
}
