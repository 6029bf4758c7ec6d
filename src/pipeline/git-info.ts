import { spawnSync } from 'node:child_process';
import type { GitInfo } from '../store/types.js';

/**
 * The code a release is made from, when the app directory is (inside) a git repository: commit,
 * branch, whether uncommitted changes went in too, and the commit's subject. Read-only git
 * commands with a short timeout; anything else (no git, not a repository, no commit yet) is null.
 */
export function gitInfo(appDir: string): GitInfo | null {
  // porcelain v2 with --branch: "# branch.oid <sha>", "# branch.head <name>", then one line per change.
  const status = git(appDir, ['status', '--porcelain=v2', '--branch', '--untracked-files=normal', '--', '.']);
  if (status === undefined) return null;
  const header = (key: string) => status.split('\n').find((l) => l.startsWith(`# branch.${key} `))?.slice(`# branch.${key} `.length);
  const commit = header('oid');
  if (!commit || commit === '(initial)') return null;
  const head = header('head');
  const dirty = status.split('\n').some((line) => line !== '' && !line.startsWith('#'));
  const subject = git(appDir, ['log', '-1', '--format=%s']) ?? '';
  return { commit, branch: head && head !== '(detached)' ? head : null, dirty, subject: subject.trim() };
}

function git(cwd: string, args: string[]): string | undefined {
  // GIT_OPTIONAL_LOCKS=0: status must not take the index lock (an editor's git could be running).
  const run = spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 5000, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' }, stdio: ['ignore', 'pipe', 'ignore'] });
  return run.status === 0 ? run.stdout : undefined;
}
