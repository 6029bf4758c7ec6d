import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Opens `count` TCP connections to 127.0.0.1:`port` from a child process (its own open-files
 * limit, so the test process is not starved), keeps them open until `release()`, then closes
 * them all. `opened` resolves once every attempt settled: connected, or refused/reset.
 */
const CLIENT = `
const net = require('node:net');
const [port, count] = process.argv.slice(-2).map(Number);
const sockets = [];
let connected = 0, failed = 0;
// Settled once: connected, or closed without connecting (refused, reset, or timed out in SYN retries).
const open = () => new Promise((settled) => {
  const s = net.connect({ port, host: '127.0.0.1' });
  let counted = false;
  const settle = (ok) => {
    if (counted) return;
    counted = true;
    ok ? connected++ : failed++;
    settled();
  };
  s.once('connect', () => settle(true));
  s.on('error', () => undefined);
  s.once('close', () => settle(false));
  s.setTimeout(20000, () => s.destroy());
  sockets.push(s);
});
// In batches: thousands of connects issued at once starve this client's own event loop.
(async () => {
  for (let i = 0; i < count; i += 500) await Promise.all(Array.from({ length: Math.min(500, count - i) }, open));
  process.send({ connected, failed });
})();
process.on('message', () => { for (const s of sockets) s.destroy(); process.exit(0); });
`;

export interface Flood {
  opened: Promise<{ connected: number; failed: number }>;
  release(): Promise<void>;
}

export function floodConnections(port: number, count: number): Flood {
  const child: ChildProcess = spawn(process.execPath, ['-e', CLIENT, String(port), String(count)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const opened = new Promise<{ connected: number; failed: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { connected: number; failed: number }));
    child.once('exit', (code) => reject(new Error(`connection flood client exited with ${code} before opening its connections`)));
  });
  return {
    opened,
    async release() {
      if (child.exitCode === null) child.send('close');
      await exited;
    },
  };
}
