import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LEGACY_STATE_DIR_NAME, appNameOf } from '../app-state.js';
import { claimAppState } from '../app-state-owner.js';

/**
 * Before any command but `init`: refuses a directory whose `app:` name another directory holds,
 * and moves the state an older build kept in `<app>/.ccom/` (loaded only when there is one).
 */
export async function prepareAppState(appDir: string, say: (line: string) => void): Promise<void> {
  if (!appNameOf(appDir)) return; // no config: the command itself says what is missing
  const note = claimAppState(appDir);
  if (note) say(`⚠ ${note}`);
  if (!existsSync(join(appDir, LEGACY_STATE_DIR_NAME))) return;
  const { moveLegacyState } = await import('../targets/local/legacy-state.js');
  await moveLegacyState(appDir, say);
}

/** After a command: the old `.ccom/` goes as soon as the instances running from it are replaced. */
export async function tidyLegacyState(appDir: string, say: (line: string) => void): Promise<void> {
  if (!existsSync(join(appDir, LEGACY_STATE_DIR_NAME)) || !appNameOf(appDir)) return;
  const { removeLegacyIfUnused } = await import('../targets/local/legacy-state.js');
  removeLegacyIfUnused(appDir, say);
}
