import { createHash, createHmac } from 'node:crypto';
import { knownHostsName } from './address.js';

/**
 * OpenSSH's known_hosts format (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 * `[@marker] patterns keytype base64-key [comment]`, where patterns is a comma list of host
 * names with `*` / `?` wildcards and `!` negation, or one hashed name `|1|base64(salt)|base64(hmac)`
 * (HMAC-SHA1 of the name keyed with the salt, as `ssh-keygen -H` writes). A host on a port other
 * than 22 is named `[host]:port`.
 */
export interface KnownHostsLine {
  /** 1-based line number, for messages. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Plain patterns, or the salt and HMAC of a hashed name. */
  hosts: { patterns: string[] } | { salt: Buffer; hash: Buffer };
  type: string;
  /** The public key in SSH wire format (what the server presents). */
  key: Buffer;
}

function parseHosts(field: string): KnownHostsLine['hosts'] | undefined {
  if (field.startsWith('|1|')) {
    const [salt, hash] = field.slice(3).split('|');
    if (!salt || !hash) return undefined;
    return { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
  }
  return { patterns: field.split(',').filter((p) => p !== '') };
}

/** Every line it understands; blank lines, comments and lines it cannot read are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostsLine[] {
  const lines: KnownHostsLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostsLine['marker'];
    if (fields[0].startsWith('@')) {
      const name = fields.shift()!.slice(1);
      // An unknown marker makes the line mean something ccom cannot honour: it is not trusted.
      if (name !== 'revoked' && name !== 'cert-authority') return;
      marker = name;
    }
    const [hostField, type, base64] = fields;
    if (!hostField || !type || !base64) return;
    const hosts = parseHosts(hostField);
    const key = Buffer.from(base64, 'base64');
    if (!hosts || key.length === 0) return;
    lines.push({ line: index + 1, ...(marker ? { marker } : {}), hosts, type, key });
  });
  return lines;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const regex = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(name);
}

/** Whether the line names the host: a hashed name matches exactly; patterns unless a negation matches. */
export function lineNamesHost(line: KnownHostsLine, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if ('salt' in line.hosts) {
    const digest = createHmac('sha1', line.hosts.salt).update(name).digest();
    return digest.length === line.hosts.hash.length && digest.equals(line.hosts.hash);
  }
  let matched = false;
  for (const pattern of line.hosts.patterns) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) matched = true;
  }
  return matched;
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` and ssh print it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH wire-format public key (its first string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return length > 0 && length < 64 && key.length >= 4 + length ? key.subarray(4, 4 + length).toString('latin1') : 'unknown';
}

/** The host key algorithms (as ssh2 names them) that make a server present a key of this type. */
export function hostKeyAlgorithmsFor(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}
