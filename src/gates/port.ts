import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { UserError } from '../errors.js';
import { otherApps, overlapProblem } from '../tls/port-registry.js';

/**
 * True when this process could listen on `host:port` right now (it tries, then closes).
 * A port taken by someone else, or one this user may not bind (below 1024), is not free.
 */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new UserError(`cannot listen on ${host}: no network interface of this machine has that address`, {
          fix: 'use 127.0.0.1 (local only) or 0.0.0.0 (all interfaces) as proxy.host',
          cause: err,
        }));
      } else reject(err);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS considers free on `host` right now (it may be taken again before you use it). */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const TCP_LISTEN = '0A';

/** Socket inodes listening on `port`, from /proc/net/tcp and tcp6 (Linux only). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ...
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const inode = fields[9];
      if (!local || !inode || fields[3] !== TCP_LISTEN) continue;
      const hexPort = local.slice(local.lastIndexOf(':') + 1);
      if (parseInt(hexPort, 16) === port && inode !== '0') inodes.add(inode);
    }
  }
  return inodes;
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // processes come and go; other users' fds are unreadable
  }
}

/**
 * Best effort: who listens on `port`, e.g. "pid 1234 (nginx)". Undefined when unknown (not Linux,
 * the owner belongs to another user, or nobody listens).
 */
export function describePortOwner(port: number): string | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const pid of readdirOrEmpty('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    for (const fd of readdirOrEmpty(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (!match?.[1] || !inodes.has(match[1])) continue;
      const ccomApp = ccomAppOf(pid);
      if (ccomApp) return `the ccom app in ${ccomApp} (stop it with \`ccom down -C ${ccomApp}\`)`;
      let name = '';
      try {
        name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        // the process just exited; the pid alone still helps
      }
      return name ? `pid ${pid} (${name})` : `pid ${pid}`;
    }
  }
  return undefined;
}

/**
 * The app directory when `pid` is a ccom agent or its guardian (both run with `--dir <app>`): a
 * port held by another ccom app is named as that app, with the command that frees it.
 */
function ccomAppOf(pid: string): string | undefined {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
  if (!args.some((arg) => arg.endsWith('/agent.js') || arg.endsWith('/agent-guardian.sh'))) return undefined;
  const dir = args.indexOf('--dir');
  return dir === -1 ? undefined : args[dir + 1];
}

/**
 * A port other ccom apps with domains hold is shared by host name with an app that has
 * domains too: the apps it is shared with, or the overlap of names that blocks (undefined: not shared).
 */
export function sharedPortStatus(port: number, app: string, domains: string[] | undefined): { with: string } | { problem: UserError } | undefined {
  if (!domains || domains.length === 0) return undefined;
  const problem = overlapProblem(port, app, domains);
  if (problem) return { problem };
  const others = otherApps(port, app);
  return others.length === 0 ? undefined : { with: others.map((o) => `${o.app}${o.owner ? ' (its agent holds the port)' : ''}`).join(', ') };
}
