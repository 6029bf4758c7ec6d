import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { inspectSource } from './inspect-source.js';

/** What `ccom init` found out about an app; `renderConfigYaml` turns it into ccom.yaml. */
export interface DetectedApp {
  app: string;
  start: string;
  /** The file the start command runs, relative to the app directory, when known. */
  startFile?: string;
  gates: { name: string; run: string }[];
  /** Build command, from the `build` script. */
  build?: string;
  healthPath: string;
  /** The port the app listens on when PORT is unset (`process.env.PORT || 3000`), if found. */
  port?: number;
  /** Whether the start file reads PORT; undefined when there is no start file to read. */
  readsPortEnv?: boolean;
  /** `.env.production`, when present. */
  envFile?: string;
  /** Directories that hold data which must survive releases (SQLite files, uploads). */
  shared: string[];
  /** The public port to write (init picks a free one); 8080 when unset. */
  proxyPort?: number;
  /** One line each: what was detected and anything to check, for `ccom init` to print. */
  notes: string[];
}

interface PackageJson {
  name?: unknown;
  main?: unknown;
  scripts?: Record<string, unknown>;
}

const FALLBACK_START_FILES = ['server.js', 'index.js', 'app.js'];
const GATE_SCRIPTS = ['test', 'lint', 'typecheck'];
// `npm init` writes this placeholder; running it as a gate would block every deploy.
const NPM_PLACEHOLDER_TEST = /no test specified/;

/**
 * Detects name, start command, gates, build, health route and data directories from
 * package.json and the start file. Throws a UserError when no way to start the app is found.
 */
export function detectApp(appDir: string): DetectedApp {
  const dir = path.resolve(appDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UserError(`app directory ${dir} does not exist`, { fix: 'pass the app directory with -C <path>' });
  }
  const pkg = readPackageJson(dir);
  const scripts = stringScripts(pkg?.scripts);
  const pm = packageManager(dir);
  const notes: string[] = [];

  const { start, startFile } = detectStart(dir, pkg, scripts, pm);
  notes.push(`start: ${start}${startFile && !start.includes(startFile) ? ` (runs ${startFile})` : ''}`);

  const gates = GATE_SCRIPTS.filter((s) => scripts[s] !== undefined && !(s === 'test' && NPM_PLACEHOLDER_TEST.test(scripts[s] ?? '')))
    .map((name) => ({ name, run: runScript(pm, name) }));
  if (gates.length > 0) notes.push(`gates: ${gates.map((g) => g.name).join(', ')}`);
  const build = scripts.build !== undefined ? buildCommand(pm, scripts.build, gates) : undefined;
  if (build) notes.push(`build: ${build}`);

  const source = startFile ? inspectSource(dir, startFile) : undefined;
  const healthPath = source?.healthPath ?? '/';
  notes.push(`health check: GET ${healthPath}${source?.healthPath ? '' : ' (no /healthz or /health route found)'}`);
  if (source && !source.readsPortEnv && !servedByPortReadingCli(scripts.start)) {
    notes.push(`${startFile} does not seem to read PORT: ccom starts each instance with its own PORT, so the app must listen on it`);
  }

  const shared = detectShared(dir);
  if (shared.length > 0) notes.push(`shared across releases: ${shared.join(', ')}`);
  const envFile = fs.existsSync(path.join(dir, '.env.production')) ? '.env.production' : undefined;

  return {
    app: appName(pkg?.name, dir),
    start,
    startFile,
    gates,
    build,
    healthPath,
    port: source?.port,
    readsPortEnv: source?.readsPortEnv,
    envFile,
    shared,
    notes,
  };
}

function readPackageJson(dir: string): PackageJson | undefined {
  const file = path.join(dir, 'package.json');
  if (!fs.existsSync(file)) return undefined;
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as PackageJson) : undefined;
  } catch (err) {
    throw new UserError(`package.json in ${dir} is not valid JSON: ${(err as Error).message}`, { fix: 'fix package.json (npm would fail on it too)', cause: err });
  }
}

function stringScripts(scripts: unknown): Record<string, string | undefined> {
  if (scripts === null || typeof scripts !== 'object') return {};
  return Object.fromEntries(Object.entries(scripts).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== ''));
}

type PackageManager = 'npm' | 'pnpm' | 'yarn';

/** The lockfile says which client the project uses; npm otherwise. */
function packageManager(dir: string): PackageManager {
  if (fs.existsSync(path.join(dir, 'pnpm-lock.yaml'))) return 'pnpm';
  if (fs.existsSync(path.join(dir, 'yarn.lock'))) return 'yarn';
  return 'npm';
}

/**
 * The build script run as the build. `next build` lints the app itself; when its `lint` script
 * is already a gate (create-next-app's is `next lint`), the build skips that second pass, which
 * costs a Next app 10–20 s of every deploy.
 */
function buildCommand(pm: PackageManager, script: string, gates: { name: string }[]): string {
  const command = runScript(pm, 'build');
  // Flags alone (create-next-app@15 writes `next build --turbopack`); a chain may lint elsewhere.
  const lintsTwice = /^\s*next build(\s+--[a-z-]+)*\s*$/.test(script) && !script.includes('--no-lint') && gates.some((g) => g.name === 'lint');
  if (!lintsTwice) return command;
  return pm === 'npm' ? `${command} -- --no-lint` : `${command} --no-lint`;
}

function runScript(pm: PackageManager, script: string): string {
  if (script === 'test' || script === 'start') return `${pm} ${script}`;
  return `${pm} run ${script}`;
}

function detectStart(dir: string, pkg: PackageJson | undefined, scripts: Record<string, string | undefined>, pm: PackageManager): { start: string; startFile?: string } {
  const script = scripts.start;
  if (script !== undefined) {
    const direct = directNodeCommand(script);
    // Running node directly lets SIGTERM reach the app (npm does not always forward it), so drains are clean.
    if (direct) return { start: script.trim(), startFile: direct };
    const startFile = firstExisting(dir, scriptFiles(script)) ?? firstExisting(dir, FALLBACK_START_FILES);
    const bin = scripts.prestart === undefined ? packageBinCommand(dir, script) : undefined;
    return { start: bin ?? runScript(pm, 'start'), startFile };
  }
  if (typeof pkg?.main === 'string' && fs.existsSync(path.join(dir, pkg.main))) {
    const main = path.posix.normalize(pkg.main.replace(/\\/g, '/'));
    return { start: `node ${main}`, startFile: main };
  }
  const fallback = firstExisting(dir, FALLBACK_START_FILES);
  if (fallback) return { start: `node ${fallback}`, startFile: fallback };
  throw new UserError(
    `cannot tell how to start the app in ${dir}: ${pkg ? 'package.json has no "start" script and no "main" file' : 'there is no package.json'}, and there is no ${FALLBACK_START_FILES.join(', ')}`,
    { fix: 'add a start script to package.json, e.g. "start": "node server.js"' },
  );
}

// Flags whose value is the next word, so that word is not the script.
const NODE_FLAGS_WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--env-file', '--title']);

/** The script file of a plain `node [flags] file [args]` command, or undefined for anything shell-ish. */
export function directNodeCommand(script: string): string | undefined {
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'node' || words.some((w) => /[;&|<>`$()'"\\*?=]/.test(w) && !/^--[a-z-]+=[\w./@-]+$/.test(w))) return undefined;
  for (let i = 1; i < words.length; i++) {
    const word = words[i] ?? '';
    if (['-e', '--eval', '-p', '--print'].includes(word)) return undefined;
    if (NODE_FLAGS_WITH_VALUE.has(word)) i++;
    else if (!word.startsWith('-')) return path.posix.normalize(word);
  }
  return undefined;
}

/**
 * `next start`, `fastify start -l info app.js`: a plain command of a package's bin, run the way
 * npm would (from node_modules/.bin) but without npm in between, so the app is the instance's
 * process and SIGTERM reaches it. Anything shell-ish (variables, operators, quotes) stays
 * `npm start`, which ccom also measures and stops as a whole.
 */
function packageBinCommand(dir: string, script: string): string | undefined {
  const words = script.trim().split(/\s+/);
  const [bin] = words;
  if (!bin || !/^[\w@.-]+$/.test(bin) || words.some((w) => /[;&|<>`$()'"\\*?]/.test(w) || (/=/.test(w) && !w.startsWith('-')))) return undefined;
  if (!fs.existsSync(path.join(dir, 'node_modules', '.bin', bin))) return undefined;
  return ['node_modules/.bin/' + bin, ...words.slice(1)].join(' ');
}

/** Words of a script that look like JavaScript files, e.g. `dist/server.js` in `tsc && node dist/server.js`. */
function scriptFiles(script: string): string[] {
  return script.split(/[\s;&|()]+/).filter((w) => /\.(c|m)?js$/.test(w)).map((w) => path.posix.normalize(w));
}

function firstExisting(dir: string, files: string[]): string | undefined {
  return files.find((f) => fs.existsSync(path.join(dir, f)));
}

/** package.json name, without scope, reduced to [a-z0-9-]; the directory name when that leaves nothing. */
export function appName(pkgName: unknown, dir: string): string {
  const sanitize = (s: string) =>
    s.toLowerCase().replace(/^@[^/]*\//, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return (typeof pkgName === 'string' ? sanitize(pkgName) : '') || sanitize(path.basename(dir)) || 'app';
}

/**
 * CLIs that serve the app themselves and listen on $PORT (`next start`, `fastify start app.js`):
 * the file they load is a plugin or a build, so it need not read PORT itself.
 */
const PORT_READING_CLIS = new Set(['next', 'fastify', 'nuxt', 'nuxi', 'remix-serve', 'react-router-serve', 'serve', 'astro']);

function servedByPortReadingCli(script: string | undefined): boolean {
  const first = script?.trim().split(/\s+/).find((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word));
  return first !== undefined && PORT_READING_CLIS.has(first);
}

const SQLITE_FILE = /\.(db|sqlite3?)$/;

/** Directories a release must not copy: a SQLite file in data/ or an uploads/ dir would be lost on the next deploy. */
function detectShared(dir: string): string[] {
  const shared: string[] = [];
  const data = path.join(dir, 'data');
  if (fs.existsSync(data) && fs.statSync(data).isDirectory() && fs.readdirSync(data).some((f) => SQLITE_FILE.test(f))) shared.push('data');
  const uploads = path.join(dir, 'uploads');
  if (fs.existsSync(uploads) && fs.statSync(uploads).isDirectory()) shared.push('uploads');
  return shared;
}
