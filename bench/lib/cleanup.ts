/**
 * Cleanups for everything a benchmark starts. They run in the benchmark's `finally`, and also
 * on Ctrl-C, so an interrupted run leaves no agent, instance or PM2 daemon behind.
 */
import { interrupt } from './proc.js';

const pending = new Set<() => Promise<void>>();
let hooked = false;

export function onCleanup(fn: () => Promise<void>): () => Promise<void> {
  pending.add(fn);
  if (!hooked) {
    hooked = true;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.error(`\n${signal}: stopping what the benchmark started…`);
        interrupt();
        void runAll().finally(() => process.exit(130));
      });
    }
  }
  return async () => {
    if (!pending.delete(fn)) return;
    await fn();
  };
}

async function runAll(): Promise<void> {
  for (const fn of [...pending]) {
    pending.delete(fn);
    await fn().catch((err: unknown) => console.error('cleanup failed:', err));
  }
}
