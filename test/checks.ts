/**
 * `npm test`'s first half: typecheck, lint and build, at the same time (they are independent,
 * and one after another they kept one of CI's two cores idle for about 20 s). Each one's output
 * is printed whole when it fails (tsup's file list is noise otherwise), so the lines of two tools
 * never interleave; any failure fails.
 *
 * Usage: node --import tsx test/checks.ts   (`npm test` runs it before the tests)
 */
import { spawn } from 'node:child_process';

const CHECKS: Array<[name: string, command: string[]]> = [
  ['typecheck', ['npx', 'tsc', '--noEmit']],
  ['lint', ['npx', 'eslint', '.']],
  ['build', ['npx', 'tsup']],
];

function runCheck(name: string, [file, ...args]: string[]): Promise<boolean> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', (err) => {
      console.error(`✖ ${name}: could not start ${file}: ${err.message}`);
      resolve(false);
    });
    child.on('close', (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (code !== 0 && output.trim()) console.log(output.trimEnd());
      console.log(code === 0 ? `✔ ${name} (${seconds}s)` : `✖ ${name} failed with exit ${code} (${seconds}s)`);
      resolve(code === 0);
    });
  });
}

const results = await Promise.all(CHECKS.map(([name, command]) => runCheck(name, command)));
if (results.includes(false)) process.exitCode = 1;
