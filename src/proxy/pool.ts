import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const requireCjs = createRequire(import.meta.url);

/**
 * undici's Pool on its own: loading the whole package (fetch, mocks, caches…) costs the
 * long-running agent about 9 MB more memory at rest and is never used there.
 */
export const Pool: typeof UndiciPool = requireCjs('undici/lib/dispatcher/pool.js');
export type Pool = UndiciPool;
