import { fileURLToPath } from 'node:url';
import { timedRun } from '../lib/proc.js';

const SCRIPT = fileURLToPath(new URL('./tls-handshakes-main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** What one new-connection run saw (tls-handshakes-main.ts's JSON line). */
export interface HandshakeRun {
  /** Connections that completed a full handshake and a 200 answer. */
  handshakes: number;
  failed: number;
  reasons: Record<string, number>;
  /** Session tickets the server sent (never used): the same server work on both peers. */
  tickets: number;
  /** Handshakes that resumed a session: 0 unless something offered one. */
  resumed: number;
  /** "TLSv1.3 TLS_AES_128_GCM_SHA256" → connections that negotiated it. */
  negotiated: Record<string, number>;
  elapsedMs: number;
  /** Connect to the end of the answer, per connection. */
  p50Ms: number;
  p99Ms: number;
  /** The client's own CPU per connection: when it nears the proxy's, the client sets the pace. */
  clientCpuUsPerHandshake: number | null;
}

/**
 * Runs the new-connection client in its own node process (as wrk is one), so this process,
 * which does the CPU accounting, counts it among its waited-for children.
 */
export async function runHandshakes(port: number, servername: string, ca: string, parallel: number, seconds: number): Promise<HandshakeRun> {
  // --import tsx resolves from the cwd: the repo root, where tsx is installed.
  const run = await timedRun(process.execPath, ['--import', 'tsx', SCRIPT, String(port), servername, ca, String(parallel), String(seconds)], {}, { cwd: REPO });
  if (run.code !== 0) throw new Error(`the TLS handshake client exited ${run.code}:\n${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout) as HandshakeRun;
}
