import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';
import type { SshConnection } from './connection.js';
import { shellQuote } from './quote.js';
import { shipTree, type ShipOptions, type ShipResult } from './ship.js';
import { describeTree, type ShipTree } from './tree.js';

/**
 * ccom's own runtime for a host: `package.json`, `bin/`, `dist/` and the production dependencies
 * (the closure of package.json's `dependencies`, as installed here), shipped content-addressed into
 * `$CCOM_HOME/runtime/<version>-<digest>/` on the host, so the SSH target can start the agent there
 * (`node <runtime>/dist/agent.js`). Same digest, same directory: a host that has it gets nothing.
 */
export interface RuntimeTree {
  /** `<version>-<12 hex of the tree digest>`. */
  name: string;
  tree: ShipTree;
  /** Native addons in it (relative paths): they must load on the host's Node.js. */
  addons: string[];
}

/**
 * Build inputs and leftovers of native modules: the host needs only the built `.node` files
 * (better-sqlite3's test_extension.node is an SQLite extension for its own tests, not an addon).
 */
const BUILD_LEFTOVERS = /\.(c|cc|cpp|h|hpp|o|a|d|mk|gyp|gypi)$|(^|\/)(Makefile|obj\.target|\.deps|binding\.Makefile|config\.gypi|test_extension\.node)$/;

/** The ccom package's root: the nearest directory up from this file with ccom's package.json. */
export function ccomPackageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'ccom') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no ccom package.json above ${from}`);
  }
}

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Resolves `name` from `fromDir` as Node would (node_modules of it and of every parent, up to `root`). */
function packageDir(name: string, fromDir: string, root: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || path.dirname(dir) === dir) return undefined;
  }
}

/** Directories (relative to root) of the production dependency closure. */
function productionPackages(root: string): string[] {
  const found = new Set<string>();
  const visit = (dir: string) => {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    const wanted = [...Object.keys(pkg.dependencies ?? {}).map((n) => [n, false] as const), ...Object.keys(pkg.optionalDependencies ?? {}).map((n) => [n, true] as const)];
    for (const [name, optional] of wanted) {
      const at = packageDir(name, dir, root);
      if (!at) {
        if (optional) continue;
        throw new UserError(`ccom's dependency ${name} is not installed in ${root}`, { fix: `run npm ci (or npm install) in ${root}` });
      }
      const rel = path.relative(root, at).split(path.sep).join('/');
      if (found.has(rel)) continue;
      found.add(rel);
      visit(at);
    }
  };
  visit(root);
  return [...found].sort();
}

export async function describeRuntime(root = ccomPackageRoot()): Promise<RuntimeTree> {
  const { version = '0.0.0' } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;
  if (!existsSync(path.join(root, 'dist', 'agent.js'))) {
    throw new UserError(`ccom is not built: ${path.join(root, 'dist', 'agent.js')} is missing, so there is no agent to install on the hosts`, { fix: `run npm run build in ${root}` });
  }
  const packages = productionPackages(root);
  const leadsToPackage = (rel: string) => packages.some((p) => p.startsWith(`${rel}/`));
  const skip = (rel: string, isDir: boolean): boolean => {
    if (BUILD_LEFTOVERS.test(rel)) return true;
    const first = rel.split('/')[0]!;
    if (first !== 'node_modules') return !['package.json', 'bin', 'dist'].includes(first);
    if (rel === 'node_modules') return false;
    // Inside a production package: all of it, except its own node_modules (that holds only what the closure names).
    const owner = packages.filter((p) => rel === p || rel.startsWith(`${p}/`)).sort((a, b) => b.length - a.length)[0];
    if (owner !== undefined && !/(^|\/)node_modules(\/|$)/.test(rel.slice(owner.length))) return false;
    // Elsewhere only the directories on the way to one (node_modules/@scope, a nested node_modules).
    return !(isDir && leadsToPackage(rel));
  };
  const tree = await describeTree(root, { skip });
  return { name: `${version}-${tree.digest.slice('sha256:'.length, 'sha256:'.length + 12)}`, tree, addons: tree.files.map((f) => f.path).filter((p) => p.endsWith('.node')) };
}

/** Where a runtime lives under `$CCOM_HOME` on a host. */
export function remoteRuntimePath(name: string): string {
  return `runtime/${name}`;
}

/**
 * Ships the runtime to a host and checks there that its native addons load on the host's Node.js
 * (better-sqlite3 is built for this machine's Node ABI): a mismatch fails naming the host.
 */
export async function shipRuntime(conn: SshConnection, runtime: RuntimeTree, options: Partial<ShipOptions> = {}): Promise<ShipResult> {
  const shipped = await shipTree(conn, runtime.tree, remoteRuntimePath(runtime.name), { during: `installing ccom ${runtime.name}`, ...options });
  if (runtime.addons.length === 0) return shipped;
  const load = `for (const f of ${JSON.stringify(runtime.addons)}) { try { process.dlopen({ exports: {} }, ${JSON.stringify(shipped.remoteDir)} + '/' + f); } catch (e) { console.log(f + ': ' + e.message); process.exitCode = 1; } }`;
  const check = await conn.exec(`node -e ${shellQuote(load)}`, { during: `checking ccom ${runtime.name} on it` });
  if (check.code !== 0) {
    const why = (check.stdout.trim() || check.stderr.trim()).slice(0, 600);
    throw new UserError(`ccom's native modules do not load on ${conn.where}'s Node.js (this machine runs ${process.version}, module ABI ${process.versions.modules}): ${why}`, {
      fix: `install Node.js ${process.versions.node.split('.')[0]} on ${conn.where}, the major version this ccom was installed with, or run ccom from a machine with the host's Node.js major`,
    });
  }
  return shipped;
}
