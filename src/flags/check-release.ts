import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appStateDir } from '../app-state.js';
import { readOverrides } from '../agent/flags-state.js';
import { Blocked } from '../pipeline/failures.js';
import { FlagFileError, parseFlagFile, type FlagSet } from './definitions.js';
import { describeOverride } from './overrides.js';
import { describeDiff, diffFlags, loadReleaseFlags, type FlagDiff } from './diff.js';
import type { Config } from '../config/types.js';
import { Store } from '../store/index.js';

/**
 * The deploy's `flags` step: the release's flag file must be valid flagd (else the deploy is
 * blocked, exit 2, naming each JSON path); a flag it removes while an override set at run
 * time still exists is reported (the override stays, unused, until `ccom flags clear`).
 */
export function checkReleaseFlags(appDir: string, releaseDir: string, file: string): { message: string; set: FlagSet; diff: FlagDiff } {
  const path = join(releaseDir, file);
  if (!existsSync(path)) {
    throw new Blocked(`flags.file ${file} does not exist in the release`, { fix: `create ${file} in the app directory (flagd's format: {"flags": {…}}) or remove flags: from ccom.yaml` });
  }
  let set: FlagSet;
  try {
    set = parseFlagFile(readFileSync(path, 'utf8'), file);
  } catch (err) {
    if (!(err instanceof FlagFileError)) throw err;
    const [first, ...more] = err.problems;
    throw new Blocked(`invalid flag file ${file}: ${first?.path || '/'}: ${first?.message}${more.length ? ` (and ${more.length} more)` : ''}`, {
      detail: err.problems.map((p) => `${file}: ${p.path || '/'}: ${p.message}`).join('\n'),
      fix: `fix ${file} at ${first?.path || 'its top'} (flagd's flag-definition format, flagd.dev/reference/flag-definitions)`,
    });
  }
  const overrides = readOverrides(appStateDir(appDir));
  const orphaned = Object.entries(overrides).filter(([key]) => !set.flags.has(key));
  const keys = [...set.flags.keys()];
  const notes = orphaned.map(([key, r]) => `⚠ flag ${key} is gone from ${file} but has an override (${describeOverride(r.override)}, by ${r.by}): \`ccom flags clear ${key}\` forgets it`);
  const live = liveRelease(appDir);
  const diff = diffFlags(set, live && loadReleaseFlags(live.dir, live.file));
  const against = live ? `; against ${live.id}: ${describeDiff(diff)}` : '';
  return { message: [`${keys.length} flag(s)${keys.length ? `: ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? '…' : ''}` : ''}${against}`, ...notes].join('; '), set, diff };
}

/** The release serving now and its flag file, from history. */
function liveRelease(appDir: string): { id: string; dir: string; file: string | undefined } | undefined {
  const store = Store.open(appDir);
  try {
    const row = store.liveRelease();
    if (!row) return undefined;
    return { id: row.id, dir: row.dir, file: (JSON.parse(row.configJson) as Config).flags?.file };
  } finally {
    store.close();
  }
}
