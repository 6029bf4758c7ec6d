import path from 'node:path';
import { z } from 'zod';

/**
 * `flags: { file: flags.json }`: the app's flag definitions (flagd's format), a path inside the
 * app directory, so the file is shipped in each release and validated with it.
 */
const flagsFile = z.unknown().transform((value, ctx) => {
  const normal = typeof value === 'string' && value.trim() !== '' ? path.posix.normalize(value.trim().replace(/\\/g, '/')) : undefined;
  if (normal === undefined || path.posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../') || normal === '.') {
    ctx.addIssue({ code: 'custom', message: 'a relative path to a flagd flag file inside the app directory, like flags.json', input: value });
    return z.NEVER;
  }
  return normal;
});

export const flagsSection = z.strictObject({ file: flagsFile }, { error: 'a mapping with key file, like { file: flags.json }' });

export interface FlagsConfig {
  /** Relative to the app directory, and so to each release directory. */
  file: string;
}
