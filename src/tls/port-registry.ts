import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from '../agent/process-handle.js';
import { ccomHome } from '../ccom-home.js';
import { UserError } from '../errors.js';

/**
 * Who serves which names on a port several apps share: one file per app under
 * `$CCOM_HOME/ports/<port>/<app>.json`, written by that app's agent. The agent bound to the port
 * reads them to hand each connection to the app its name belongs to (through `socket`); the
 * others read them to take the port when its owner goes. Files, not a daemon: nothing else runs.
 */
export interface PortEntry {
  app: string;
  /** The app directory, to name it in messages (`ccom down -C <dir>`). */
  dir: string;
  domains: string[];
  /** The agent's handoff socket for this port (unix, 0600). */
  socket: string;
  pid: number;
  /** This agent is bound to the port and hands connections on. */
  owner: boolean;
}

export function portDir(port: number): string {
  return join(ccomHome(), 'ports', String(port));
}

/** Written whole, then renamed: a reader never sees half an entry. */
export function register(port: number, entry: PortEntry): void {
  const dir = portDir(port);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${entry.app}.json`);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(entry), { mode: 0o600 });
  renameSync(temp, file);
}

/** Removes this agent's entry (another agent of the same app may have replaced it: then it stays). */
export function unregister(port: number, app: string, pid = process.pid): void {
  const file = join(portDir(port), `${app}.json`);
  if (readEntry(file)?.pid === pid) rmSync(file, { force: true });
}

/** Every app registered on the port, with agents running or not (a killed agent's file stays until it comes back). */
export function registeredApps(port: number): PortEntry[] {
  const dir = portDir(port);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => readEntry(join(dir, n)))
    .filter((e): e is PortEntry => e !== undefined);
}

/** The entries of agents still running. */
export function liveEntries(port: number): PortEntry[] {
  return registeredApps(port).filter((e) => pidAlive(e.pid));
}

/** Other apps serving domains on the port. */
export function otherApps(port: number, app: string): PortEntry[] {
  return liveEntries(port).filter((e) => e.app !== app && e.domains.length > 0);
}

/** A name this app asks for that another app on the port already serves: blocked, naming it. */
export function overlapProblem(port: number, app: string, domains: string[]): UserError | undefined {
  for (const other of otherApps(port, app)) {
    const shared = domains.filter((d) => other.domains.includes(d));
    if (shared.length === 0) continue;
    return new UserError(`${shared.join(', ')} ${shared.length === 1 ? 'is' : 'are'} already served on port ${port} by the ccom app "${other.app}" in ${other.dir}`, {
      fix: `each name belongs to one app: remove ${shared.join(', ')} from domains in one of the two ccom.yaml files, or stop the other app (\`ccom down -C ${other.dir}\`)`,
    });
  }
  return undefined;
}

function readEntry(file: string): PortEntry | undefined {
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Partial<PortEntry>;
    if (typeof entry.app !== 'string' || typeof entry.socket !== 'string' || !Number.isInteger(entry.pid) || !Array.isArray(entry.domains)) return undefined;
    return { app: entry.app, dir: String(entry.dir ?? ''), domains: entry.domains.map(String), socket: entry.socket, pid: entry.pid as number, owner: entry.owner === true };
  } catch {
    return undefined;
  }
}

/** A port several apps share by host name, for `ccom status` and `ccom doctor`: who holds it, who serves what. */
export interface SharedPortSummary {
  port: number;
  /** The app whose agent is bound to the port and hands the others' connections on (null: none now). */
  holder: string | null;
  holderDir: string | null;
  apps: { app: string; domains: string[] }[];
}

/** Undefined unless at least two apps with running agents are registered on the port. */
export function sharedPortSummary(port: number): SharedPortSummary | undefined {
  const entries = liveEntries(port);
  if (entries.length < 2) return undefined;
  const holder = entries.find((e) => e.owner);
  return { port, holder: holder?.app ?? null, holderDir: holder?.dir ?? null, apps: entries.map((e) => ({ app: e.app, domains: e.domains })) };
}

/** "port 443 is shared by host name: shop's agent holds it; shop (shop.test), blog (blog.test)". */
export function describeSharedPort(s: SharedPortSummary): string {
  const apps = s.apps.map((a) => `${a.app} (${a.domains.join(', ')})`).join(', ');
  const holder = s.holder ? `the agent of ${s.holder} (${s.holderDir}) holds it and hands on the names of the others` : 'no agent holds it now';
  return `port ${s.port} is shared by host name: ${holder}; ${apps}`;
}
