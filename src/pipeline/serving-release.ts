import type { Store } from '../store/index.js';
import type { ReleaseRow } from '../store/types.js';
import type { TargetStatus } from '../targets/types.js';

/**
 * The release that serves now: the one with the largest share of traffic on healthy instances.
 * A command reads "what is live" from history before it ends the last deploy's watch; the watch
 * may have moved traffic back meanwhile, and a command that rolled back to the stale one would
 * send users to stopped instances (503). Falls back to `live` when nothing serves.
 */
export function servingRelease(store: Store, live: ReleaseRow | undefined, status: TargetStatus): ReleaseRow | undefined {
  const healthy = new Set(status.instances.filter((i) => i.healthy).map((i) => i.release));
  const [top] = Object.entries(status.weights)
    .filter(([release, weight]) => weight > 0 && healthy.has(release))
    .sort(([, a], [, b]) => b - a);
  if (!top || top[0] === live?.id) return live;
  return store.getRelease(top[0]) ?? live;
}
