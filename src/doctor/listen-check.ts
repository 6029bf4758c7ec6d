import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { procStats } from '../agent/proc-stats.js';
import type { InstanceInfo } from '../targets/types.js';
import { pass, warn, type Check } from './types.js';

/** A listening TCP socket of this machine, from /proc/net/tcp{,6}. */
interface Listener {
  address: string;
  port: number;
  loopback: boolean;
}

const LISTEN = '0A';

/** /proc/net/tcp writes addresses as hex in host (little-endian) byte order, 32 bits at a time. */
function ipv4(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

function describe(hex: string): { address: string; loopback: boolean } {
  if (hex.length === 8) {
    const address = ipv4(hex);
    return { address, loopback: address.startsWith('127.') };
  }
  if (hex === '00000000000000000000000001000000') return { address: '[::1]', loopback: true };
  // ::ffff:a.b.c.d, an IPv4 address on an IPv6 socket.
  if (hex.startsWith('0000000000000000FFFF0000')) {
    const address = ipv4(hex.slice(24));
    return { address: `[::ffff:${address}]`, loopback: address.startsWith('127.') };
  }
  return { address: hex === '0'.repeat(32) ? '[::]' : `[${hex}]`, loopback: false };
}

/** Listening sockets by inode. */
function listeners(): Map<string, Listener> {
  const found = new Map<string, Listener>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [hex, port] = (f[1] ?? '').split(':');
      if (f[3] !== LISTEN || !hex || !port || !f[9]) continue;
      found.set(f[9], { ...describe(hex), port: parseInt(port, 16) });
    }
  }
  return found;
}

function socketInodes(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''].filter(Boolean);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/**
 * Instances must listen on loopback only: the proxy is the public door, where health, draining,
 * analysis and the switch happen. One listening on 0.0.0.0 or :: is reachable around it, from
 * other machines, on a port that changes with every deploy.
 */
export function listenCheck(instances: InstanceInfo[]): Check {
  const name = 'listen-address';
  if (instances.length === 0) return pass(name, 'no instance running');
  const sockets = listeners();
  const exposed: string[] = [];
  for (const instance of instances) {
    const pids = procStats(instance.groupPid ?? instance.pid)?.pids ?? [];
    const open = pids.flatMap(socketInodes).map((inode) => sockets.get(inode)).filter((l): l is Listener => l !== undefined && !l.loopback);
    for (const l of open) exposed.push(`instance ${instance.id} of ${instance.release} (pid ${instance.pid}) listens on ${l.address}:${l.port}`);
  }
  if (exposed.length === 0) return pass(name, `${instances.length} instance(s) listen on loopback only, behind the proxy`);
  return warn(
    name,
    `${[...new Set(exposed)].join('; ')}: reachable from other machines around ccom's proxy`,
    'make the app listen on 127.0.0.1: ccom sets HOST and HOSTNAME to 127.0.0.1, so pass one to listen(), e.g. server.listen(process.env.PORT, process.env.HOST); or firewall the ports from 20000 up',
  );
}
