import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// Two entry points: the CLI (commands are imported lazily, so esbuild splits them into chunks
// that load only when used) and the agent, a separate long-running process per app.
export default defineConfig({
  entry: { cli: 'src/cli/main.ts', agent: 'src/agent/main.ts' },
  format: 'esm',
  platform: 'node',
  target: 'node20',
  splitting: true,
  sourcemap: true,
  clean: true,
  // The build stamp lets the CLI notice an agent left running by an older build and replace it.
  define: { __CCOM_VERSION__: JSON.stringify(version), __CCOM_BUILD__: JSON.stringify(`${version}+${Date.now()}`) },
  // Runtime dependencies stay in node_modules (better-sqlite3 is native).
  external: ['better-sqlite3', 'undici', 'zod', 'yaml', 'commander', 'picocolors'],
});
