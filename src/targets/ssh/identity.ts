import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { UserError } from '../../errors.js';

/** What ccom authenticates with: the ssh agent, a private key, or both (the agent is tried first). */
export interface SshIdentity {
  agent?: string;
  privateKey?: Buffer;
  /** For messages: where the key came from. */
  describe: string;
}

/** OpenSSH's default identities, in the order ssh tries them. */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(homedir(), file.slice(1)) : path.resolve(file);
}

function readKey(file: string): { key: Buffer; encrypted: boolean } | undefined {
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`cannot read the SSH key ${file}: ${(err as Error).message}`, { fix: `make ${file} readable by this user (chmod 600)`, cause: err });
  }
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) {
    if (/passphrase/i.test(parsed.message)) return { key, encrypted: true };
    throw new UserError(`${file} is not an SSH private key ccom can read: ${parsed.message}`, {
      fix: 'point ssh.identityFile at an OpenSSH private key (ssh-keygen -t ed25519 makes one)',
    });
  }
  return { key, encrypted: false };
}

/**
 * `ssh.identityFile` when set (through the agent when the key has a passphrase: ccom asks for
 * none); else the agent of `SSH_AUTH_SOCK` plus the first of ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
 */
export function resolveIdentity(identityFile: string | undefined, env: NodeJS.ProcessEnv = process.env): SshIdentity {
  const agent = env.SSH_AUTH_SOCK || undefined;
  if (identityFile !== undefined) {
    const file = expandHome(identityFile);
    const read = readKey(file);
    if (!read) throw new UserError(`ssh.identityFile ${file} does not exist`, { fix: `create it (ssh-keygen -t ed25519 -f ${file}) or correct ssh.identityFile` });
    if (!read.encrypted) return { privateKey: read.key, describe: file };
    if (agent) return { agent, describe: `${file} through the ssh agent` };
    throw new UserError(`ssh.identityFile ${file} has a passphrase and no ssh agent runs (SSH_AUTH_SOCK is not set)`, {
      fix: `start an agent and add the key: eval "$(ssh-agent)" && ssh-add ${file}`,
    });
  }
  for (const name of DEFAULT_KEYS) {
    const file = path.join(homedir(), '.ssh', name);
    const read = readKey(file);
    if (read && !read.encrypted) return { ...(agent ? { agent } : {}), privateKey: read.key, describe: agent ? `the ssh agent, then ${file}` : file };
  }
  if (agent) return { agent, describe: 'the ssh agent' };
  throw new UserError('no SSH identity: SSH_AUTH_SOCK is not set and ~/.ssh has no id_ed25519, id_ecdsa or id_rsa without a passphrase', {
    fix: 'set ssh.identityFile in ccom.yaml, or start ssh-agent and ssh-add your key',
  });
}
