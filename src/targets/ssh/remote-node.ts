import { UserError } from '../../errors.js';
import type { SshConnection } from './connection.js';

/** The oldest Node.js a host may run: the agent and the store script are built for Node 20. */
export const MIN_REMOTE_NODE_MAJOR = 20;

const checked = new WeakMap<SshConnection, Promise<string>>();

const INSTALL_FIX = (where: string) =>
  `install Node.js ${MIN_REMOTE_NODE_MAJOR} or later on ${where} so that \`node\` is on the PATH of its SSH sessions (ssh ${where} node --version must print v${MIN_REMOTE_NODE_MAJOR} or later); ccom needs nothing else there but sshd`;

/** The host's `node --version` (like `v20.20.2`), once per connection; fails naming the host when node is missing or too old. */
export function remoteNodeVersion(conn: SshConnection): Promise<string> {
  let version = checked.get(conn);
  if (!version) {
    version = probe(conn);
    checked.set(conn, version);
  }
  return version;
}

async function probe(conn: SshConnection): Promise<string> {
  const result = await conn.exec('node --version', { during: 'checking its Node.js version' });
  const printed = result.stdout.trim();
  const match = /^v(\d+)\.\d+\.\d+/.exec(printed);
  if (result.code === 127 || (result.code !== 0 && /not found|no such file/i.test(result.stderr))) {
    throw new UserError(`${conn.where} has no Node.js: \`node\` is not on the PATH of its SSH sessions`, { fix: INSTALL_FIX(conn.where) });
  }
  if (result.code !== 0 || !match) {
    throw new UserError(`${conn.where}: \`node --version\` failed (exit ${result.code ?? result.signal}): ${(result.stderr || printed).trim().slice(0, 200)}`, { fix: INSTALL_FIX(conn.where) });
  }
  if (Number(match[1]) < MIN_REMOTE_NODE_MAJOR) {
    throw new UserError(`${conn.where} has Node.js ${printed}; ccom needs ${MIN_REMOTE_NODE_MAJOR} or later there`, { fix: INSTALL_FIX(conn.where) });
  }
  return printed;
}
