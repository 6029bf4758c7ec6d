import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildManifest } from '../gates/manifest.js';
import { runBackupCommand, type BackupConfig } from './commands.js';

function sha256Of(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

const SKIP = new Set(['.git', '.ccom', 'node_modules']);

/** Mirrors the app's directory tree (empty) so a restore written with relative paths lands inside. */
function mirrorDirs(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (!entry.isDirectory() || SKIP.has(entry.name)) continue;
    mkdirSync(join(to, entry.name), { recursive: true });
    mirrorDirs(join(from, entry.name), join(to, entry.name));
  }
}

/**
 * Proves backups work without touching live data: a real backup, then a real restore into a
 * scratch copy of the app's directory layout, then every restored file compared byte for byte
 * with the app's own. Returns what it proved; throws a UserError naming what failed.
 */
export async function verifyBackupByRestore(appDir: string, backup: BackupConfig, env: Record<string, string>): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'ccom-backup-check-'));
  try {
    const backupDir = join(work, 'backup');
    const scratch = join(work, 'scratch');
    mkdirSync(backupDir);
    mkdirSync(scratch);
    await runBackupCommand('backup.run', backup.run, { cwd: appDir, backupDir, env });
    const taken = await buildManifest(backupDir);
    if (taken.length === 0) throw new Error('backup.run wrote no file into $CCOM_BACKUP_DIR');
    mirrorDirs(appDir, scratch);
    await runBackupCommand('backup.restore', backup.restore, { cwd: scratch, backupDir, env });
    const restored = await buildManifest(scratch);
    if (restored.length === 0) throw new Error('backup.restore wrote no file (it must use paths relative to the app directory)');
    const problems = restored.filter((r) => sha256Of(join(appDir, r.path)) !== r.sha256).map((r) => r.path);
    if (problems.length > 0) throw new Error(`restored files differ from the app's: ${problems.slice(0, 5).join(', ')}`);
    const bytes = restored.reduce((sum, f) => sum + f.size, 0);
    return `backup + restore into a scratch directory reproduced ${restored.length} file(s), ${bytes} bytes, byte for byte`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
