import { existsSync } from 'node:fs';
import { Store } from '../../store/index.js';
import { wasDeployed } from '../../app-state.js';
import type { CommandContext } from '../run.js';
import { relativeTime } from '../relative-time.js';

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
      ]);
      for (const line of table(['  RELEASE', 'STATUS', 'STRATEGY', 'DIGEST', 'CREATED', 'BY', 'FILES'], rows)) ctx.say(line);
    }
  }
  ctx.result({ releases });
  return 0;
}

/** Columns padded to their widest cell, two spaces apart. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
