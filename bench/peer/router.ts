import { fileURLToPath } from 'node:url';
import { startService, type Service } from './service.js';

const SCRIPT = fileURLToPath(new URL('./router-main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * ccom's Router in a separate node process (like the agent, but without its supervisor or control
 * API), proxying to `upstreamPort`: the same app instance the other peers proxy to.
 */
export async function startRouterProcess(upstreamPort: number): Promise<Service & { port: number }> {
  // --import tsx resolves from the cwd: the repo root, where tsx is installed.
  const service = await startService('ccom router', process.execPath, ['--import', 'tsx', SCRIPT, String(upstreamPort)], {
    cwd: REPO,
    readyLine: /^listening (\d+)$/m,
    timeoutMs: 20_000,
  });
  return { pid: service.pid, stop: service.stop, describe: service.describe, port: Number(service.readyMatch?.[1]) };
}
