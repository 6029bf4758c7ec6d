/**
 * New-connection load: `parallel` loops, each opening a TLS connection (a full handshake: no
 * session is ever offered back), sending one request with `connection: close`, reading the
 * answer to the server's close, and starting over, for `seconds`. Prints one JSON line.
 * Usage: node --import tsx bench/peer/tls-handshakes-main.ts <port> <servername> <ca file> <parallel> <seconds>
 */
import { connect } from 'node:tls';
import { pinnedClient } from './tls-pin.js';

const [port, servername, ca, parallel, seconds] = process.argv.slice(2);
if (!port || !servername || !ca || !parallel || !seconds) {
  console.error('usage: tls-handshakes-main.ts <port> <servername> <ca file> <parallel> <seconds>');
  process.exit(2);
}

/** A connection that has not been answered and closed in this long counts as failed. */
const CONNECTION_TIMEOUT_MS = 5_000;
// The chain is checked once per peer by `negotiated`; here it would only add client CPU that
// the peers then lack (the handshake's own signature is verified by TLS 1.3 regardless).
const options = { ...pinnedClient(Number(port), servername, ca), rejectUnauthorized: false };
const request = `GET / HTTP/1.1\r\nhost: ${servername}\r\nconnection: close\r\n\r\n`;
const tally = { handshakes: 0, failed: 0, reasons: {} as Record<string, number>, tickets: 0, resumed: 0, negotiated: {} as Record<string, number>, latenciesMs: [] as number[] };

function once(): Promise<void> {
  return new Promise((resolve) => {
    const started = performance.now();
    let answer = '';
    let settled = false;
    const settle = (reason?: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (reason === undefined) {
        tally.handshakes++;
        tally.latenciesMs.push(performance.now() - started);
      } else {
        tally.failed++;
        tally.reasons[reason] = (tally.reasons[reason] ?? 0) + 1;
      }
      resolve();
    };
    const socket = connect(options, () => {
      const got = `${socket.getProtocol()} ${socket.getCipher().standardName}`;
      tally.negotiated[got] = (tally.negotiated[got] ?? 0) + 1;
      if (socket.isSessionReused()) tally.resumed++;
      socket.write(request);
    });
    socket.setTimeout(CONNECTION_TIMEOUT_MS, () => settle('timeout'));
    socket.on('session', () => tally.tickets++);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => settle(answer.startsWith('HTTP/1.1 200 ') ? undefined : `answer ${answer.slice(0, 12) || 'empty'}`));
    socket.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
  });
}

async function loop(until: number): Promise<void> {
  while (performance.now() < until) await once();
}

const started = performance.now();
const cpuBefore = process.cpuUsage();
const until = started + Number(seconds) * 1000;
await Promise.all(Array.from({ length: Number(parallel) }, () => loop(until)));
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const sorted = tally.latenciesMs.sort((a, b) => a - b);
const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
const { latenciesMs: _, ...counts } = tally;
const clientCpuUsPerHandshake = counts.handshakes === 0 ? null : (cpu.user + cpu.system) / counts.handshakes;
console.log(JSON.stringify({ ...counts, elapsedMs, p50Ms: at(0.5), p99Ms: at(0.99), clientCpuUsPerHandshake }));
