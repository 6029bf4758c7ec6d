import { existsSync } from 'node:fs';
import { Store } from '../../store/index.js';
import type { GitInfo } from '../../store/types.js';
import { wasDeployed } from '../../app-state.js';
import type { CommandContext } from '../run.js';
import { relativeTime } from '../relative-time.js';
import { table } from '../table.js';

export async function run(ctx: CommandContext): Promise<number> {
  if (!wasDeployed(ctx.appDir)) {
    ctx.result({ releases: [] }, 'no releases yet: run `ccom deploy`');
    return 0;
  }
  const store = Store.open(ctx.appDir);
  const releases = store.listReleases().map((r) => ({
    id: r.id,
    createdAt: r.createdAt,
    status: r.status,
    strategy: r.strategy,
    digest: r.digest,
    deployedBy: r.deployedBy,
    // Pruned releases keep their history row, but a rollback can no longer bring them back.
    pruned: !existsSync(r.dir),
    // The code it holds: commit, branch, dirty, subject (null when the app is not a git repository).
    git: r.git ?? null,
  }));
  store.close();
  if (!ctx.json) {
    if (releases.length === 0) ctx.say('no releases yet: run `ccom deploy`');
    else {
      const now = Date.now();
      const rows = releases.map((r) => [
        `${r.status === 'live' ? '●' : ' '} ${r.id}`,
        r.status,
        r.strategy,
        r.digest.slice(0, 19),
        relativeTime(r.createdAt, now),
        r.deployedBy,
        r.pruned ? 'pruned' : 'on disk',
        codeOf(r.git),
      ]);
      for (const line of table(['  RELEASE', 'STATUS', 'STRATEGY', 'DIGEST', 'CREATED', 'BY', 'FILES', 'CODE'], rows)) ctx.say(line);
    }
  }
  ctx.result({ releases });
  return 0;
}

/** `a1b2c3d main* Fix the checkout total` (the star: uncommitted changes went in too). */
function codeOf(git: GitInfo | null): string {
  if (!git) return '-';
  const subject = git.subject.length > 50 ? `${git.subject.slice(0, 49)}…` : git.subject;
  return `${git.commit.slice(0, 7)} ${git.branch ?? '(detached)'}${git.dirty ? '*' : ''} ${subject}`;
}
