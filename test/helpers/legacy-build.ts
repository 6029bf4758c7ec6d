import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The last build that kept an app's state in `<app>/.ccom/`. */
export const LEGACY_COMMIT = '32f7449';

/** Why the old build cannot be made here (a shallow clone has no such commit), or undefined. */
export function legacyBuildUnavailable(): string | undefined {
  try {
    execFileSync('git', ['-C', ROOT, 'cat-file', '-e', `${LEGACY_COMMIT}^{commit}`], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `commit ${LEGACY_COMMIT} is not in this checkout's git history (a shallow clone?): fetch it (git fetch --unshallow) to run this test`;
  }
}

/**
 * The real old build, from the repository's own history: its sources (git archive) with this
 * checkout's node_modules linked in, built with tsup. Returns its directory (bin/ccom.js runs it).
 */
export function buildLegacy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-legacy-build-'));
  try {
    execFileSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', ROOT, LEGACY_COMMIT, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    return dir;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
