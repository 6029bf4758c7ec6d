/** The TLS benchmark's figures: rows, ratios ccom/nginx, and its markdown table. */
import { ratio, type BenchRatio, type BenchResult, type BenchRow } from '../lib/report.js';
import { median } from '../lib/stats.js';
import { markdownTable, num } from './markdown.js';
import { bestOf, medianCpuUsPerRequest, pairedCpuRatio, type PeerRun } from './measure-http.js';
import type { HandshakeRun } from './tls-handshakes.js';

export interface NewConnectionRun extends HandshakeRun {
  /** Proxy CPU time (user + system) per completed handshake. */
  proxyCpuUsPerHandshake: number | null;
  otherCpuShare: number;
}

/** One peer's runs, in round order (run i of ccom and of nginx are moments apart). */
export interface TlsPeer {
  key: 'ccom' | 'nginx';
  label: string;
  /** "TLSv1.3 TLS_AES_128_GCM_SHA256", as a pinned client negotiated it. */
  negotiated: string;
  keepAlive: PeerRun[];
  newConnections: NewConnectionRun[];
}

export interface TlsVsNginxResult extends BenchResult {
  peers: TlsPeer[];
}

const perSecond = (r: NewConnectionRun) => (r.handshakes * 1000) / r.elapsedMs;

function bestNew(runs: NewConnectionRun[]): NewConnectionRun | undefined {
  return runs.reduce<NewConnectionRun | undefined>((best, r) => (best === undefined || perSecond(r) > perSecond(best) ? r : best), undefined);
}

function medianCpuPerHandshake(runs: NewConnectionRun[]): number | null {
  const values = runs.flatMap((r) => (r.proxyCpuUsPerHandshake === null ? [] : [r.proxyCpuUsPerHandshake]));
  return values.length === 0 ? null : median(values);
}

/** Median over rounds of ccom's CPU per handshake over nginx's in the same round. */
function pairedHandshakeCpuRatio(a: NewConnectionRun[], b: NewConnectionRun[]): number | null {
  const perRound = a.flatMap((run, i) => {
    const other = b[i]?.proxyCpuUsPerHandshake;
    return run.proxyCpuUsPerHandshake === null || !other ? [] : [run.proxyCpuUsPerHandshake / other];
  });
  return perRound.length === 0 ? null : median(perRound);
}

const inverse = (value: number | null) => (value === null || value === 0 ? null : 1 / value);

/**
 * Median over rounds of ccom's rate over nginx's in the same round: on a machine others load
 * too, a burst of their load hits both peers of a round alike, while best-of-runs may compare
 * a quiet moment of one peer with a busy one of the other.
 */
function pairedRateRatio<T>(a: T[], b: T[], rate: (run: T) => number): number | null {
  const perRound = a.flatMap((run, i) => (b[i] === undefined || rate(b[i]) === 0 ? [] : [rate(run) / rate(b[i])]));
  return perRound.length === 0 ? null : median(perRound);
}

export function tlsRows(peers: TlsPeer[]): BenchRow[] {
  return peers.flatMap((p) => {
    const keepAlive = bestOf(p.keepAlive);
    const fresh = bestNew(p.newConnections);
    return [
      ...(keepAlive ? [{ label: `${p.key} keep-alive p50`, unit: 'ms' as const, value: keepAlive.p50Ms }, { label: `${p.key} keep-alive p99`, unit: 'ms' as const, value: keepAlive.p99Ms }] : []),
      ...(fresh ? [{ label: `${p.key} new connection p50`, unit: 'ms' as const, value: fresh.p50Ms }, { label: `${p.key} new connection p99`, unit: 'ms' as const, value: fresh.p99Ms }] : []),
    ];
  });
}

export function tlsRatios(peers: TlsPeer[]): BenchRatio[] {
  const ccom = peers.find((p) => p.key === 'ccom');
  const nginx = peers.find((p) => p.key === 'nginx');
  if (!ccom || !nginx) return [];
  const [ka, kaNginx] = [bestOf(ccom.keepAlive), bestOf(nginx.keepAlive)];
  const [fresh, freshNginx] = [bestNew(ccom.newConnections), bestNew(nginx.newConnections)];
  return [
    { label: 'keep-alive TLS req/s ccom / nginx (best runs)', value: ratio(ka?.requestsPerSec, kaNginx?.requestsPerSec), target: '≥ 0.8' },
    { label: 'keep-alive TLS req/s ccom / nginx (median of per-round ratios)', value: pairedRateRatio(ccom.keepAlive, nginx.keepAlive, (r) => r.requestsPerSec) },
    { label: 'keep-alive TLS proxy CPU per request ccom / nginx (median of per-round ratios)', value: pairedCpuRatio(ccom.keepAlive, nginx.keepAlive) },
    { label: 'new TLS connections/s ccom / nginx (best runs)', value: ratio(fresh && perSecond(fresh), freshNginx && perSecond(freshNginx)), target: '≥ 0.8' },
    { label: 'new TLS connections/s ccom / nginx (median of per-round ratios)', value: pairedRateRatio(ccom.newConnections, nginx.newConnections, perSecond) },
    { label: 'proxy CPU per new TLS connection ccom / nginx (median of per-round ratios)', value: pairedHandshakeCpuRatio(ccom.newConnections, nginx.newConnections) },
    // What each could do on a core of its own, from its CPU per connection: the capacity figure
    // when the shared client, not the proxy, sets the measured pace.
    { label: 'new TLS connections per proxy CPU-second ccom / nginx (1 / the ratio above)', value: inverse(pairedHandshakeCpuRatio(ccom.newConnections, nginx.newConnections)), target: '≥ 0.8' },
  ];
}

const pct = (share: number) => `${Math.round(share * 100)}%`;
const errors = (runs: Array<{ failed: number } | { non2xx: number; socketErrors: number }>) => runs.reduce((s, r) => s + ('failed' in r ? r.failed : r.non2xx + r.socketErrors), 0);

/** Every run's figures, so the spread is on record next to the best run. */
export function perRunNotes(p: TlsPeer): string[] {
  const reasons = p.newConnections.flatMap((r) => Object.entries(r.reasons).map(([k, n]) => `${k} ×${n}`));
  const handshakes = p.newConnections.reduce((s, r) => s + r.handshakes, 0);
  const tickets = p.newConnections.reduce((s, r) => s + r.tickets, 0);
  return [
    `${p.key} keep-alive: req/s per run ${p.keepAlive.map((r) => num(r.requestsPerSec)).join(' / ')}; proxy CPU µs/req ${p.keepAlive.map((r) => num(r.proxyCpuUsPerRequest, 1)).join(' / ')}; other CPU load ${p.keepAlive.map((r) => pct(r.otherCpuShare)).join(' / ')}; errors ${errors(p.keepAlive)}`,
    `${p.key} new connections: per s per run ${p.newConnections.map((r) => num(perSecond(r))).join(' / ')}; proxy CPU µs/connection ${p.newConnections.map((r) => num(r.proxyCpuUsPerHandshake)).join(' / ')}; client CPU µs/connection ${p.newConnections.map((r) => num(r.clientCpuUsPerHandshake)).join(' / ')}; other CPU load ${p.newConnections.map((r) => pct(r.otherCpuShare)).join(' / ')}; resumed ${p.newConnections.reduce((s, r) => s + r.resumed, 0)}; session tickets sent per connection ${num(handshakes === 0 ? null : tickets / handshakes, 1)}; failed ${errors(p.newConnections)}${reasons.length ? ` (${reasons.join(', ')})` : ''}`,
  ];
}

/** The result as a markdown table (one line per peer and kind of load), then ratios and notes. */
export function printTlsVsNginx(result: BenchResult): void {
  const { peers } = result as TlsVsNginxResult;
  const rows = peers.flatMap((p) => {
    const ka = bestOf(p.keepAlive);
    const fresh = bestNew(p.newConnections);
    return [
      [p.label, 'keep-alive', num(ka?.requestsPerSec), num(ka?.p50Ms, 2), num(ka?.p99Ms, 2), num(medianCpuUsPerRequest(p.keepAlive), 1), ka ? pct(ka.otherCpuShare) : '—'],
      [p.label, 'new connection each', num(fresh && perSecond(fresh)), num(fresh?.p50Ms, 2), num(fresh?.p99Ms, 2), num(medianCpuPerHandshake(p.newConnections), 1), fresh ? pct(fresh.otherCpuShare) : '—'],
    ];
  });
  console.log(`\n## ${result.title}\n`);
  console.log(markdownTable(['peer', 'load', 'req/s (best of runs)', 'p50 ms', 'p99 ms', 'proxy CPU µs per request (median)', 'other CPU load (best run)'], rows));
  console.log('');
  for (const r of result.ratios) console.log(`- ${r.label}: ${r.value === null ? 'n/a' : `${r.value.toFixed(2)}×`}${r.target ? ` (target ${r.target})` : ''}`);
  for (const n of result.notes) console.log(`- ${n}`);
}
