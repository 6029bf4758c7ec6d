/**
 * One `hosts:` entry (or `ssh.proxyJump`): `host`, `user@host`, `user@host:port`, `[v6]`,
 * `[v6]:port`, `user@[v6]:port`. A bare IPv6 address without brackets is accepted too (it
 * cannot carry a port: its colons would be ambiguous).
 */
export interface SshAddress {
  /** Absent: `ssh.user`, else the current user. */
  user?: string;
  /** A name or an IP address, without brackets. */
  host: string;
  /** Absent: 22. */
  port?: number;
}

const USER = /^[a-z_][a-z0-9_.-]*$/i;
const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i;
const IPV6 = /^[0-9a-f:.]+(%[a-z0-9_.-]+)?$/i;

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The parsed entry, or undefined when it is none of the accepted shapes. */
export function parseSshAddress(entry: string): SshAddress | undefined {
  let rest = entry.trim();
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER.test(user)) return undefined;
  }
  let host: string;
  let port: number | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) return undefined;
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return undefined;
      port = parsePort(after.slice(1));
      if (port === undefined) return undefined;
    }
    if (!IPV6.test(host) || !host.includes(':')) return undefined;
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    // Several colons and no brackets: a bare IPv6 address, with no port.
    host = rest;
    if (!IPV6.test(host)) return undefined;
  } else {
    const colon = rest.indexOf(':');
    host = colon === -1 ? rest : rest.slice(0, colon);
    if (colon !== -1) {
      port = parsePort(rest.slice(colon + 1));
      if (port === undefined) return undefined;
    }
    if (!NAME.test(host) || host.length > 253) return undefined;
  }
  return { ...(user === undefined ? {} : { user }), host: host.toLowerCase(), ...(port === undefined ? {} : { port }) };
}

/** `host` or `[host]:port` as OpenSSH writes it in known_hosts and ssh-keyscan prints it. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** How a host is named in messages: `user@host:port` (`[v6]:port`), the port only when not 22. */
export function describeAddress(address: { user?: string; host: string; port?: number }): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const port = address.port === undefined || address.port === 22 ? '' : `:${address.port}`;
  return `${address.user === undefined ? '' : `${address.user}@`}${host}${port}`;
}
