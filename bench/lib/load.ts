import { Agent, request } from 'node:http';

/**
 * Sends `total` GET requests to `url` over `concurrency` keep-alive connections; resolves to how
 * many did not answer 200 (memory readings only mean something if the traffic really flowed).
 */
export async function sendRequests(url: string, total: number, concurrency = 8): Promise<{ failed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let failed = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(url, { agent }, (res) => {
        if (res.statusCode !== 200) failed++;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end();
    });
  const worker = async () => {
    while (next < total) {
      next++;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { failed };
}
