import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printResult, type BenchResult } from './report.js';

/** True when this module is the script node was asked to run (not imported by bench/run.ts). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
}

/** Runs one benchmark as a script: prints its table, exits 1 only when it could not run at all. */
export function runAsScript(bench: () => Promise<BenchResult>): void {
  bench().then(printResult, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
