/**
 * Semantic versions as flagd's `sem_ver` reads them: a leading v/V is dropped, "1" and "1.2"
 * stand for 1.0.0 and 1.2.0, build metadata is ignored, pre-releases sort before their release
 * (SemVer 2.0 §11). Anything else is not a version (the rule then yields null).
 */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  pre: (string | number)[];
}

const FULL = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;
const PARTIAL = /^(\d+)(?:\.(\d+))?$/;

export function parseSemVer(raw: unknown): SemVer | null {
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  const text = String(raw).trim().replace(/^[vV]/, '');
  const full = FULL.exec(text);
  if (full) {
    const pre = full[4] === undefined ? [] : full[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    return { major: Number(full[1]), minor: Number(full[2]), patch: Number(full[3]), pre };
  }
  const partial = PARTIAL.exec(text);
  if (partial) return { major: Number(partial[1]), minor: Number(partial[2] ?? 0), patch: 0, pre: [] };
  return null;
}

/** -1, 0 or 1, as semver's precedence says. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  if (a.pre.length === 0 || b.pre.length === 0) return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    // Numeric identifiers have lower precedence than alphanumeric ones.
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
