import { userInfo } from 'node:os';
import type { SshConfig } from '../../config/types.js';

/** `ssh:` of ccom.yaml, resolved: how ccom reaches every host. */
export interface SshSettings {
  /** The login for hosts that name none (`user@host`); default: the current user. */
  user: string;
  /** Default: the ssh agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  identityFile?: string;
  /** Default: ~/.ssh/known_hosts. */
  knownHosts: string;
  /** `[user@]host[:port]` of a bastion every connection goes through. */
  proxyJump?: string;
  /** TCP connect plus SSH handshake and login, per host. */
  connectTimeoutMs: number;
  /** An SSH ping this often; three unanswered ones and the host counts as gone. */
  keepaliveIntervalMs: number;
}

export const DEFAULT_KNOWN_HOSTS = '~/.ssh/known_hosts';
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 5_000;
/** Missed keepalives before the connection counts as lost (OpenSSH's ServerAliveCountMax). */
export const KEEPALIVE_COUNT_MAX = 3;

/** The settings with their defaults, from the `ssh:` section as the config schema left it (absent: all defaults). */
export function sshSettings(section: SshConfig | undefined): SshSettings {
  return {
    user: section?.user ?? userInfo().username,
    ...(section?.identityFile === undefined ? {} : { identityFile: section.identityFile }),
    knownHosts: section?.knownHosts ?? DEFAULT_KNOWN_HOSTS,
    ...(section?.proxyJump === undefined ? {} : { proxyJump: section.proxyJump }),
    connectTimeoutMs: section?.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepaliveIntervalMs: section?.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
  };
}
