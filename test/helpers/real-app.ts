import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCcom, type CcomRun } from './ccom.js';
import { processesUnder } from './fixture-app.js';

const APPS = fileURLToPath(new URL('../real-apps/', import.meta.url));

/** Runs a command in `cwd`; rejects with its output when it exits non-zero. */
export function sh(cwd: string, file: string, args: string[], timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, CI: 'true' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export interface RealApp {
  /** The app's git repository (a copy of test/real-apps/<name>). */
  dir: string;
  /** Runs the built CLI on this app, with CCOM_HOME inside the test's temp dir. */
  ccom(args: string[]): Promise<CcomRun>;
  /** Writes a file of the app and commits it, as a developer would before deploying. */
  commit(files: Record<string, string>, message: string): Promise<void>;
  /** Replaces text in ccom.yaml (throws when `from` is absent, so a test cannot void itself) and commits. */
  configure(from: string, to: string): Promise<void>;
  /** `git status --porcelain` of the app's repository. */
  gitStatus(): Promise<string>;
  /** `ccom down`; then any process left in the temp dir is killed (by pid) and reported. */
  down(): Promise<{ run: CcomRun; leaked: number[] }>;
  /** Removes the temp dir (after down). */
  remove(): void;
}

/**
 * A generated app as a user has it: its own git repository, `npm ci` from the committed
 * lockfile, then `ccom init` with the built CLI. `ccom.yaml` is committed like the rest.
 */
export async function realApp(name: 'next' | 'express' | 'fastify'): Promise<RealApp> {
  const root = mkdtempSync(join(tmpdir(), `ccom-real-${name}-`));
  const dir = join(root, name);
  const env = { CCOM_HOME: join(root, 'ccom-home') };
  cpSync(join(APPS, name), dir, { recursive: true, filter: (src) => !['node_modules', '.next'].includes(basename(src)) });
  const git = (...args: string[]) => sh(dir, 'git', ['-c', 'user.name=ccom test', '-c', 'user.email=test@ccom.invalid', ...args]);
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'generated app');
  await sh(dir, 'npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund']);

  const app: RealApp = {
    dir,
    ccom: (args) => runCcom([...args, '-C', dir], env),
    async commit(files, message) {
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      await git('add', '-A', '--', ...Object.keys(files));
      await git('commit', '-qm', message);
    },
    async configure(from, to) {
      const path = join(dir, 'ccom.yaml');
      const text = readFileSync(path, 'utf8');
      if (!text.includes(from)) throw new Error(`ccom.yaml has no "${from}":\n${text}`);
      await app.commit({ 'ccom.yaml': text.replace(from, to) }, `ccom.yaml: ${to.split('\n')[0]}`);
    },
    gitStatus: () => git('status', '--porcelain'),
    async down() {
      const run = await app.ccom(['down']);
      const leaked = await processesUnder(root, 5000);
      for (const pid of leaked) process.kill(pid, 'SIGKILL');
      return { run, leaked };
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };

  const init = await app.ccom(['init']);
  if (init.code !== 0) throw new Error(`ccom init failed (${init.code}): ${init.stderr}`);
  await git('add', 'ccom.yaml');
  await git('commit', '-qm', 'ccom init');
  // Other test files and engineers use this machine's 8080/9464 at the same time: a free port
  // each (init writing a free port itself is issue 9, point 7).
  await app.configure('  port: 8080 ', '  port: 0 ');
  await app.configure('  port: 9464 ', '  port: 0 ');
  return app;
}
