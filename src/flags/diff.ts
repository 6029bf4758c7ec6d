import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlagFile, type FlagSet } from './definitions.js';

/** What a release's flag file changes against another's: flags added, removed, and defined differently. */
export interface FlagDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

export function diffFlags(next: FlagSet, previous: FlagSet | undefined): FlagDiff {
  const before = previous?.flags ?? new Map();
  const same = (key: string) => JSON.stringify(shape(before.get(key))) === JSON.stringify(shape(next.flags.get(key)));
  return {
    added: [...next.flags.keys()].filter((k) => !before.has(k)),
    removed: [...before.keys()].filter((k) => !next.flags.has(k)),
    changed: [...next.flags.keys()].filter((k) => before.has(k) && !same(k)),
  };
}

function shape(flag: { state: string; variants: unknown; defaultVariant: unknown; targeting: unknown } | undefined): unknown {
  return flag && [flag.state, flag.variants, flag.defaultVariant, flag.targeting];
}

/** A release's flag set from its directory and config, or undefined when it has none (or a broken one). */
export function loadReleaseFlags(releaseDir: string, file: string | undefined): FlagSet | undefined {
  if (!file || !existsSync(join(releaseDir, file))) return undefined;
  try {
    return parseFlagFile(readFileSync(join(releaseDir, file), 'utf8'), file);
  } catch {
    return undefined;
  }
}

export function describeDiff(d: FlagDiff): string {
  const parts = [...d.added.map((k) => `+${k}`), ...d.removed.map((k) => `-${k}`), ...d.changed.map((k) => `~${k}`)];
  return parts.length === 0 ? 'no flag changed' : parts.join(' ');
}
