import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The inode of the socket listening on TCP `port` (IPv4 or IPv6, any address), from /proc/net. */
function listeningInode(port: number): string | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] is local "address:port", cols[3] the state (0A = LISTEN), cols[9] the inode.
      if (cols[3] === '0A' && cols[1]?.endsWith(`:${hexPort}`)) return cols[9];
    }
  }
  return undefined;
}

/** The pid of the process that holds the socket listening on `port` (the app itself, not a wrapper). */
export function listenerPid(port: number): number | undefined {
  const inode = listeningInode(port);
  if (!inode) return undefined;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return Number(pid);
      } catch {
        /* fd closed while scanning */
      }
    }
  }
  return undefined;
}

/** User + system CPU seconds `pid` has used itself (not its children), from /proc/<pid>/stat. */
export function ownCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: index 11 is utime, 12 stime, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The value of one Prometheus series in a /metrics text, matched by name and label values. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
