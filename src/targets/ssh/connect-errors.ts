import { UserError } from '../../errors.js';

/**
 * The error a failed connection attempt becomes, naming the host (`where`) and what to check.
 * `err` is what node:net or ssh2 reported; host-key refusals are made by host-key.ts instead.
 */
export function connectError(err: Error & { code?: string; level?: string }, where: string, user: string, port: number, identity: string, timeoutMs: number): UserError {
  const code = err.code ?? '';
  const message = err.message;
  const seconds = `${Math.round(timeoutMs / 100) / 10}s`;
  if (code === 'ECONNREFUSED') {
    return new UserError(`cannot connect to ${where}: connection refused (nothing listens for SSH on port ${port})`, {
      fix: `check that sshd runs on the host and listens on port ${port}, and that hosts: names the right port`,
      cause: err,
    });
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new UserError(`cannot connect to ${where}: the connection was cut before the SSH handshake (${code}): sshd stopping or restarting there, or a firewall`, {
      fix: `check that sshd runs on the host and accepts connections on port ${port} (\`ssh -p ${port} ${user}@<host> true\`), then run the command again`,
      cause: err,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UserError(`cannot connect to ${where}: its name does not resolve (${code})`, { fix: 'check the host name in hosts: (or ssh.proxyJump) and your DNS', cause: err });
  }
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /timed out/i.test(message)) {
    return new UserError(`cannot connect to ${where}: no answer within ${seconds} (${code || message})`, {
      fix: `check that the host is up and reachable from here on port ${port} (address, firewall, VPN), or raise ssh.connectTimeout`,
      cause: err,
    });
  }
  if (err.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new UserError(`${where} refused the SSH login of ${user} with ${identity}`, {
      fix: `add your public key to ~${user}/.ssh/authorized_keys on the host (ssh-copy-id -p ${port} ${user}@<host>), or set ssh.user / ssh.identityFile`,
      cause: err,
    });
  }
  if (/no matching host key/i.test(message)) {
    return new UserError(`WARNING: ${where} no longer offers a host key of the types known_hosts trusts for it: its key has CHANGED, or someone intercepts the connection. Nothing was sent to it.`, {
      fix: "ask the host's administrator whether its key changed; only if it did, replace its line in known_hosts (ssh-keygen -R, then ssh-keyscan after checking the fingerprint)",
      cause: err,
    });
  }
  return new UserError(`cannot connect to ${where}: ${message}`, { fix: `check that \`ssh -p ${port} ${user}@<host> true\` works from this machine`, cause: err });
}

/** A connection that worked and then went away: what was under way is named, never a hang. */
export function lostError(where: string, reason: string, during: string): UserError {
  return new UserError(`lost the SSH connection to ${where} while ${during}: ${reason}`, {
    fix: `check that ${where} is up and reachable (its sshd running, the network), then run the command again`,
  });
}
