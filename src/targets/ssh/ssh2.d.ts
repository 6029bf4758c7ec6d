/**
 * The part of ssh2 1.17 that ccom uses, typed here: @types/ssh2 pulls its own @types/node 18,
 * whose globals clash with this project's Node 20 types.
 */
declare module 'ssh2' {
  import type { Duplex, Readable } from 'node:stream';
  import { EventEmitter } from 'node:events';

  interface ParsedKey {
    type: string;
    comment: string;
    isPrivateKey(): boolean;
    getPublicSSH(): Buffer;
  }

  interface ConnectConfig {
    sock?: Duplex;
    host?: string;
    port?: number;
    username?: string;
    privateKey?: Buffer | string;
    agent?: string;
    readyTimeout?: number;
    keepaliveInterval?: number;
    keepaliveCountMax?: number;
    hostVerifier?: (key: Buffer) => boolean;
    algorithms?: { serverHostKey?: string[] };
    ident?: string;
  }

  interface ClientChannel extends Duplex {
    stderr: Readable;
    on(event: 'exit', listener: (code: number | null, signal?: string) => void): this;
    on(event: 'close', listener: () => void): this;
    on(event: string | symbol, listener: (...args: never[]) => void): this;
    once(event: 'exit', listener: (code: number | null, signal?: string) => void): this;
    once(event: string | symbol, listener: (...args: never[]) => void): this;
    signal(name: string): boolean;
    close(): void;
  }

  class Client extends EventEmitter {
    connect(config: ConnectConfig): this;
    exec(command: string, callback: (err: Error | undefined, channel: ClientChannel) => void): boolean;
    forwardOut(srcIP: string, srcPort: number, dstIP: string, dstPort: number, callback: (err: Error | undefined, channel: ClientChannel) => void): boolean;
    end(): this;
    destroy(): this;
  }

  const ssh2: {
    Client: typeof Client;
    utils: { parseKey(data: Buffer | string, passphrase?: string): ParsedKey | ParsedKey[] | Error };
  };
  export default ssh2;
  export type { Client, ClientChannel, ConnectConfig, ParsedKey };
}
