import { Agent, request } from 'node:http';
import type { WarmPlan, WarmReport } from '../targets/local/wire.js';

/**
 * Warm-up requests straight from the agent to a release's instances, over keep-alive
 * connections: through the CLI's preview route each request would cost a control-socket
 * connection and two processes' CPU, and the warm-up would cost a deploy seconds on a busy
 * machine. They carry the smoke checks' user agent, as the preview route's requests do.
 */
export async function warmInstances(ports: number[], plan: WarmPlan): Promise<WarmReport> {
  const started = Date.now();
  const deadline = started + plan.timeoutMs;
  const workers = Math.max(1, Math.min(plan.total, plan.concurrency));
  const agent = new Agent({ keepAlive: true, maxSockets: workers });
  const times: number[] = [];
  let sent = 0;
  let failed = 0;
  const worker = async () => {
    while (sent < plan.total && Date.now() < deadline) {
      const n = sent++;
      const req = plan.requests[n % plan.requests.length]!;
      const t0 = performance.now();
      const status = await send(agent, ports[n % ports.length]!, req.method, req.path);
      times.push(performance.now() - t0);
      if (status === 0 || status >= 500) failed++;
    }
  };
  try {
    if (ports.length > 0 && plan.requests.length > 0) await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    agent.destroy();
  }
  return { sent, failed, durationMs: Date.now() - started, firstMs: times.slice(0, ports.length), medianMs: quantile(times, 0.5), p90Ms: quantile(times, 0.9) };
}

/** The status of one request (0: no answer within 10 s, or a connection error). */
function send(agent: Agent, port: number, method: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, timeout: 10_000, headers: { 'user-agent': 'ccom-smoke' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}
