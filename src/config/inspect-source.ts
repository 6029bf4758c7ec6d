import fs from 'node:fs';
import path from 'node:path';

/** What the start file's source tells about the running app. */
export interface SourceFacts {
  /** `/healthz` or `/health` when the source routes it. */
  healthPath?: string;
  /** The fallback port in `process.env.PORT || 3000` or a literal `listen(3000)`. */
  port?: number;
  readsPortEnv: boolean;
}

const MAX_BYTES = 1_000_000;
const HEALTH_ROUTES = ['/healthz', '/health'];

/**
 * Reads the start file and the local files it imports directly (routes often live in app.js
 * next to server.js). Returns undefined when the start file cannot be read, e.g. before a build.
 */
export function inspectSource(dir: string, startFile: string): SourceFacts | undefined {
  const main = readSmall(path.join(dir, startFile));
  if (main === undefined) return undefined;
  const sources = [main, ...localImports(main, path.dirname(path.join(dir, startFile)), dir).map(readSmall).filter((s) => s !== undefined)];
  const all = sources.join('\n');
  // Quoted, so `/healthz` does not count as `/health` and `/healthcheck` counts as neither.
  const healthPath = HEALTH_ROUTES.find((route) => new RegExp(`['"\`]${route}['"\`?]`).test(all));
  const fallback = /process\.env\.PORT\s*(?:\|\||\?\?)\s*['"]?(\d{2,5})/.exec(all) ?? /\.listen\(\s*(\d{2,5})\s*[,)]/.exec(all);
  const port = fallback?.[1] !== undefined ? Number(fallback[1]) : undefined;
  return { healthPath, port: port !== undefined && port <= 65535 ? port : undefined, readsPortEnv: /\bPORT\b/.test(all) };
}

function readSmall(file: string): string | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() && stat.size <= MAX_BYTES ? fs.readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** Files named by `require('./x')`, `import ... from './x'` or `import('./x')`, resolved inside the app dir. */
function localImports(source: string, fromDir: string, appDir: string): string[] {
  const specs = [...source.matchAll(/(?:require\(|import\(|from\s+)\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1] ?? '');
  const files: string[] = [];
  for (const spec of specs) {
    const base = path.resolve(fromDir, spec);
    if (!base.startsWith(appDir + path.sep)) continue;
    const found = [base, `${base}.js`, `${base}.mjs`, `${base}.cjs`, path.join(base, 'index.js')].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    if (found) files.push(found);
  }
  return files.slice(0, 20);
}
