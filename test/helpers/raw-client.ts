import net from 'node:net';
import assert from 'node:assert/strict';

/** A raw client connection that collects everything the proxy sends (latin1 text). */
export class RawClient {
  readonly socket: net.Socket;
  data = '';
  ended = false;
  private waiters: Array<() => void> = [];

  constructor(port: number, host = '127.0.0.1') {
    this.socket = net.connect(port, host);
    this.socket.on('data', (chunk: Buffer) => this.notify((this.data += chunk.toString('latin1'))));
    this.socket.on('end', () => this.notify((this.ended = true)));
    this.socket.on('error', () => this.notify((this.ended = true)));
    this.socket.on('close', () => this.notify((this.ended = true)));
  }

  private notify(_: unknown): void {
    for (const w of this.waiters) w();
  }

  send(text: string): this {
    this.socket.write(text, 'latin1');
    return this;
  }

  /** Resolves once the received text matches `pattern` (or the connection ends, failing). */
  async until(pattern: RegExp | ((data: string) => boolean), timeoutMs = 5_000): Promise<string> {
    const ok = () => (typeof pattern === 'function' ? pattern(this.data) : pattern.test(this.data));
    if (ok()) return this.data;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(pattern)}; got ${JSON.stringify(this.data)}`)), timeoutMs);
      const check = () => {
        if (ok() || this.ended) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          if (ok()) resolve();
          else reject(new Error(`connection ended before ${String(pattern)}; got ${JSON.stringify(this.data)}`));
        }
      };
      this.waiters.push(check);
    });
    return this.data;
  }

  async closed(timeoutMs = 5_000): Promise<void> {
    await this.until(() => this.ended, timeoutMs).catch(() => undefined);
    assert.ok(this.ended, `connection still open; got ${JSON.stringify(this.data)}`);
  }

  close(): void {
    this.socket.destroy();
  }
}
