import { request } from 'node:http';

export interface ProbeResult {
  ok: boolean;
  /** What the check saw, for messages: "200", "503", "connection refused", "timed out after 2000ms". */
  observed: string;
  /** The HTTP status, when the app answered at all. */
  status?: number;
}

/** One health check: GET the path on the instance; healthy on 2xx/3xx. */
export function probeHealth(port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, headers: { 'user-agent': 'ccom-health' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ ok: status >= 200 && status < 400, observed: `HTTP ${status}`, status });
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ ok: false, observed: `no answer within ${timeoutMs}ms` });
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      resolve({ ok: false, observed: err.code === 'ECONNREFUSED' ? 'connection refused' : err.message });
    });
    req.end();
  });
}
