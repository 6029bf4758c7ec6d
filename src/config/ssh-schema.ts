import { z } from 'zod';
import { describeAddress, parseSshAddress } from '../targets/ssh/address.js';
import type { SshConfig } from './types.js';

// The `hosts:` and `ssh:` keys. schema.ts hands in its own builders (leaf, section, ...) so the
// messages read as every other key's, without this file and schema.ts importing each other.

interface Builders {
  leaf: <T>(expected: string, parse: (value: unknown) => T | undefined) => z.ZodType<T>;
  section: <S extends z.core.$ZodLooseShape>(shape: S, expected?: string) => z.ZodObject<S, z.core.$strict>;
  text: (expected: string) => z.ZodType<string>;
  timeoutDuration: z.ZodType<number>;
}

const HOST_EXPECTED = 'a host like 203.0.113.10, deploy@203.0.113.11:2222 or [2001:db8::1]:22';

/** `hosts:`: each entry `host`, `user@host`, `user@host:port` or `[v6]:port`, each host:port once. */
export function hostsSchema({ leaf }: Builders) {
  const entry = leaf(HOST_EXPECTED, (v) => (typeof v === 'string' && parseSshAddress(v) ? v.trim() : undefined));
  return z
    .array(entry, { error: 'a list of hosts, like [203.0.113.10, deploy@203.0.113.11:2222]' })
    .min(1, { error: 'at least one host' })
    .superRefine((hosts, ctx) => {
      const seen = new Set<string>();
      hosts.forEach((host, index) => {
        const parsed = parseSshAddress(host)!;
        const key = describeAddress({ host: parsed.host, port: parsed.port ?? 22 });
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index], message: `each host once (${key} is listed twice)`, input: host });
        seen.add(key);
      });
    });
}

/** `ssh:`: how every host is reached. Durations are resolved to milliseconds. */
export function sshSchema({ leaf, section, text, timeoutDuration }: Builders) {
  const userName = leaf('a user name like deploy', (v) => (typeof v === 'string' && /^[a-z_][a-z0-9_.-]*$/i.test(v.trim()) ? v.trim() : undefined));
  const jump = leaf('a jump host like bastion.example.com or deploy@bastion.example.com:2222', (v) =>
    typeof v === 'string' && parseSshAddress(v) ? v.trim() : undefined,
  );
  return section({
    user: userName.optional(),
    identityFile: text('a private key file, like ~/.ssh/id_ed25519').optional(),
    knownHosts: text('a known_hosts file, like ~/.ssh/known_hosts').optional(),
    proxyJump: jump.optional(),
    connectTimeout: timeoutDuration.optional(),
    keepaliveInterval: timeoutDuration.optional(),
  }).transform((raw): SshConfig => {
    const out: SshConfig = {};
    if (raw.user !== undefined) out.user = raw.user;
    if (raw.identityFile !== undefined) out.identityFile = raw.identityFile;
    if (raw.knownHosts !== undefined) out.knownHosts = raw.knownHosts;
    if (raw.proxyJump !== undefined) out.proxyJump = raw.proxyJump;
    if (raw.connectTimeout !== undefined) out.connectTimeoutMs = raw.connectTimeout;
    if (raw.keepaliveInterval !== undefined) out.keepaliveIntervalMs = raw.keepaliveInterval;
    return out;
  });
}

/** `ssh:` says how to reach `hosts:`; without hosts it would silently do nothing. */
export function refineSsh(c: { hosts?: unknown; ssh?: unknown }, ctx: z.RefinementCtx): void {
  if (c.ssh !== undefined && c.hosts === undefined) {
    ctx.addIssue({ code: 'custom', path: ['ssh'], message: 'no ssh section without hosts: (it says how to reach them)', input: c.ssh });
  }
}
