import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/** A digest of the sources: the same code builds the same stamp, so a rebuild alone replaces no agent. */
function sourceDigest(): string {
  const hash = createHash('sha256');
  const files = readdirSync('src', { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile())
    .map((f) => `${f.parentPath}/${f.name}`)
    .sort();
  for (const file of files) hash.update(file).update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}

// Entry points: the CLI (commands are imported lazily, so esbuild splits them into chunks
// that load only when used), the agent, a separate long-running process per app, and the
// targets, which the Target contract tests drive directly (built, so the local one finds agent.js).
export default defineConfig({
  entry: { cli: 'src/cli/main.ts', agent: 'src/agent/main.ts', targets: 'src/targets/index.ts' },
  format: 'esm',
  platform: 'node',
  target: 'node20',
  splitting: true,
  sourcemap: true,
  clean: true,
  // The build stamp lets the CLI notice an agent left running by an older build and replace it.
  define: { __CCOM_VERSION__: JSON.stringify(version), __CCOM_BUILD__: JSON.stringify(`${version}+${sourceDigest()}`) },
  // Pure-JS libraries the CLI loads on every command are bundled: one parsed file instead of
  // resolving dozens of package files cuts the cold start. Native and agent-only ones stay out.
  noExternal: ['zod', 'yaml', 'commander', 'picocolors'],
  external: ['better-sqlite3', 'prom-client'],
  // Bundled CommonJS (commander, yaml) calls require(); ESM has none, so each chunk gets one.
  banner: { js: "import { createRequire as __ccomCreateRequire } from 'node:module'; const require = __ccomCreateRequire(import.meta.url);" },
});
