import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import ssh2, { type ClientChannel, type Client } from 'ssh2';
import { UserError } from '../../errors.js';
import { describeAddress, parseSshAddress, type SshAddress } from './address.js';
import { connectError, lostError } from './connect-errors.js';
import { hostKeyError, judgeHostKey, trustedLinesFor, type HostKeyVerdict } from './host-key.js';
import { expandHome, resolveIdentity, type SshIdentity } from './identity.js';
import { hostKeyAlgorithmsFor, parseKnownHosts, type KnownHostsLine } from './known-hosts.js';
import { KEEPALIVE_COUNT_MAX, type SshSettings } from './settings.js';

/** A finished remote command. `code` is null when it was ended by a signal (`signal` names it). */
export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

/** A remote command under way: write its stdin, read its output as it comes. */
export interface RemoteCommand {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Settles when the command ended; rejects (naming the host) when the connection was lost first. */
  done: Promise<{ code: number | null; signal?: string }>;
}

export interface CommandOptions {
  /** What the command does, for the error when the connection is lost during it ("shipping release X"). */
  during?: string;
}

function readKnownHosts(file: string): KnownHostsLine[] {
  try {
    return parseKnownHosts(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(`cannot read ssh.knownHosts ${file}: ${(err as Error).message}`, { fix: `make ${file} readable by this user`, cause: err });
  }
}

/** A TCP connection with its own deadline: ssh2's readyTimeout does not cover a SYN nobody answers. */
function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`TCP connect timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * One SSH connection to one host, through ssh2 (pure JavaScript: nothing to install on the
 * deploying machine). Host keys are checked against known_hosts before anything is sent; the
 * connection pings the host every `keepaliveIntervalMs`, so a host that vanishes ends every
 * command under way with an error naming it instead of a hang.
 */
export class SshConnection {
  /** `user@host[:port]`, as messages name the host. */
  readonly where: string;
  private lost: string | undefined;
  private readonly onLost = new Set<(reason: string) => void>();

  private constructor(
    private readonly client: Client,
    /** The TCP socket to the first hop (the jump host's when there is one): wire bytes are counted on it. */
    private readonly socket: Socket,
    readonly address: Required<SshAddress>,
    private readonly jump: SshConnection | undefined,
  ) {
    this.where = describeAddress(address);
    const gone = (reason: string) => {
      if (this.lost !== undefined) return;
      this.lost = reason;
      for (const listener of this.onLost) listener(reason);
    };
    client.on('error', (err: Error) => gone(/keepalive/i.test(err.message) ? `no answer to ${KEEPALIVE_COUNT_MAX} keepalives (the host or the network is down)` : err.message));
    client.on('close', () => gone('the connection closed'));
    jump?.whenLost((reason) => gone(`the jump host ${jump.where} went away: ${reason}`));
  }

  /** Connects and logs in; an unknown, changed or revoked host key is refused before login (exit 2). */
  static async open(target: SshAddress, settings: SshSettings): Promise<SshConnection> {
    const address = { user: target.user ?? settings.user, host: target.host, port: target.port ?? 22 };
    const knownHostsFile = expandHome(settings.knownHosts);
    const knownHosts = readKnownHosts(knownHostsFile);
    const identity = resolveIdentity(settings.identityFile);
    let jump: SshConnection | undefined;
    if (settings.proxyJump !== undefined) {
      const jumpAddress = parseSshAddress(settings.proxyJump);
      if (!jumpAddress) throw new UserError(`ssh.proxyJump ${settings.proxyJump} is not [user@]host[:port]`, { fix: 'write it like deploy@bastion.example.com:22' });
      jump = await SshConnection.open(jumpAddress, { ...settings, proxyJump: undefined });
    }
    try {
      return await SshConnection.handshake(address, settings, knownHosts, knownHostsFile, identity, jump);
    } catch (err) {
      jump?.close();
      throw err;
    }
  }

  private static async handshake(
    address: Required<SshAddress>,
    settings: SshSettings,
    knownHosts: KnownHostsLine[],
    knownHostsFile: string,
    identity: SshIdentity,
    jump: SshConnection | undefined,
  ): Promise<SshConnection> {
    const where = describeAddress(address) + (jump ? ` (through ${jump.where})` : '');
    const fail = (err: Error) => connectError(err, where, address.user, address.port, identity.describe, settings.connectTimeoutMs);
    let sock: Duplex;
    let socket: Socket;
    try {
      if (jump) {
        sock = await jump.forward(address.host, address.port);
        socket = jump.socket;
      } else {
        socket = await openSocket(address.host, address.port, settings.connectTimeoutMs);
        sock = socket;
      }
    } catch (err) {
      throw err instanceof UserError ? err : fail(err as Error);
    }
    // Ask for the key types known_hosts holds for this host, so a host with several keys presents
    // the one we trust (as OpenSSH orders its HostKeyAlgorithms).
    const knownTypes = [...new Set(trustedLinesFor(knownHosts, address.host, address.port).map((l) => l.type))];
    const client = new ssh2.Client();
    let refused: Exclude<HostKeyVerdict, { status: 'trusted' }> | undefined;
    return new Promise((resolve, reject) => {
      // ssh2 can report more than one error for one failed attempt ("read ECONNRESET", then
      // "Connection lost before handshake"): the listener stays, so a second one is not uncaught.
      let settled = false;
      const onError = (err: Error) => {
        if (settled) return;
        settled = true;
        client.destroy();
        if (!jump) socket.destroy();
        reject(refused ? hostKeyError(refused, address, knownHostsFile) : fail(err));
      };
      client.on('error', onError);
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        client.off('error', onError);
        resolve(new SshConnection(client, socket, address, jump));
      });
      client.connect({
        sock,
        username: address.user,
        ...(identity.agent ? { agent: identity.agent } : {}),
        ...(identity.privateKey ? { privateKey: identity.privateKey } : {}),
        readyTimeout: settings.connectTimeoutMs,
        keepaliveInterval: settings.keepaliveIntervalMs,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        ...(knownTypes.length > 0 ? { algorithms: { serverHostKey: knownTypes.flatMap(hostKeyAlgorithmsFor) } } : {}),
        hostVerifier: (key: Buffer) => {
          const verdict = judgeHostKey(knownHosts, address.host, address.port, key);
          if (verdict.status === 'trusted') return true;
          refused = verdict;
          return false;
        },
      });
    });
  }

  /** Bytes this connection has put on the wire (encrypted, with SSH framing), to its first hop. */
  get wireBytesSent(): number {
    return this.socket.bytesWritten;
  }

  get wireBytesReceived(): number {
    return this.socket.bytesRead;
  }

  /** Why the connection is gone, or undefined while it is up. */
  get lostReason(): string | undefined {
    return this.lost;
  }

  whenLost(listener: (reason: string) => void): () => void {
    this.onLost.add(listener);
    return () => this.onLost.delete(listener);
  }

  /**
   * `setup` runs inside ssh2's callback: one packet can carry the channel's confirmation, its output
   * and its exit status, and an `exit` listener added a tick later would miss the status.
   */
  private openChannel(during: string, open: (cb: (err: Error | undefined, channel: ClientChannel) => void) => void, setup: (channel: ClientChannel) => void = () => undefined): Promise<ClientChannel> {
    if (this.lost !== undefined) return Promise.reject(lostError(this.where, this.lost, during));
    return new Promise((resolve, reject) => {
      const stop = this.whenLost((reason) => reject(lostError(this.where, reason, during)));
      try {
        open((err, channel) => {
          stop();
          if (err) reject(this.lost !== undefined ? lostError(this.where, this.lost, during) : new UserError(`${this.where} refused a channel while ${during}: ${err.message}`, { cause: err }));
          else {
            setup(channel);
            resolve(channel);
          }
        });
      } catch (err) {
        stop();
        reject(lostError(this.where, (err as Error).message, during));
      }
    });
  }

  /** A TCP stream from the host to `host:port` (what ProxyJump uses). */
  private forward(host: string, port: number): Promise<Duplex> {
    return this.openChannel(`opening a tunnel to ${host}:${port}`, (cb) => this.client.forwardOut('127.0.0.1', 0, host, port, cb));
  }

  /** Starts `command` in the host's login shell, streaming. */
  async start(command: string, options: CommandOptions = {}): Promise<RemoteCommand> {
    const during = options.during ?? `running \`${command.length > 60 ? `${command.slice(0, 57)}...` : command}\``;
    let settle: { resolve: (exit: { code: number | null; signal?: string }) => void; reject: (err: Error) => void } | undefined;
    const done = new Promise<{ code: number | null; signal?: string }>((resolve, reject) => (settle = { resolve, reject }));
    const channel = await this.openChannel(
      during,
      (cb) => this.client.exec(command, cb),
      (ch) => {
        let exit: { code: number | null; signal?: string } | undefined;
        const stop = this.whenLost((reason) => settle!.reject(lostError(this.where, reason, during)));
        ch.once('exit', (code: number | null, signal?: string) => {
          exit = { code, ...(signal ? { signal } : {}) };
        });
        ch.once('close', () => {
          stop();
          // A channel closed without an exit status, with the connection still up, is the
          // host's sshd session dying: the command's fate is unknown.
          if (exit) settle!.resolve(exit);
          else settle!.reject(lostError(this.where, this.lost ?? 'the session ended without an exit status', during));
        });
      },
    );
    // The caller may not wait on `done` before it fails elsewhere; an unobserved rejection must not crash.
    done.catch(() => undefined);
    return { stdin: channel, stdout: channel, stderr: channel.stderr, done };
  }

  /** Runs `command` to its end with `stdin` (closed after), collecting its output. */
  async exec(command: string, options: CommandOptions & { stdin?: string | Buffer } = {}): Promise<ExecResult> {
    const remote = await this.start(command, options);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    remote.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    remote.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    remote.stdin.end(options.stdin ?? '');
    const { code, signal } = await remote.done;
    return { code, ...(signal ? { signal } : {}), stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
  }

  /** Ends the connection (and the jump host's). */
  close(): void {
    this.lost ??= 'closed by ccom';
    this.client.end();
    this.jump?.close();
  }
}
