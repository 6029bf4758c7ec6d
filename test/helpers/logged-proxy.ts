import { createProxyServer, Router } from '../../src/proxy/router.js';
import { listen, stop, type TestProxy } from '../fixtures/proxy-servers.js';

/** A proxy whose agent-log lines are collected in `lines`, to check what it logs. */
export async function startLoggedProxy(): Promise<TestProxy & { lines: string[] }> {
  const lines: string[] = [];
  const router = new Router({ log: (line) => lines.push(line) });
  const server = createProxyServer(router);
  const port = await listen(server);
  return {
    router,
    lines,
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      await stop(server);
      await router.close();
    },
  };
}
