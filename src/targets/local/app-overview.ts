import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appsDir, pinStateDir } from '../../app-state.js';
import type { TargetStatus } from '../types.js';
import { socketRequest } from './agent-client.js';
import { localPaths } from './paths.js';
import type * as Wire from './wire.js';
import { statusOffWire } from './wire-mapping.js';

/** One app with state on this machine, as its state dir records it. */
export interface KnownApp {
  name: string;
  stateDir: string;
  /** The directory it was deployed from (recorded in `app-dir`), if recorded. */
  appDir: string | undefined;
}

/** Every app of this user on this machine: one state dir each under `$CCOM_HOME/apps/`. */
export function knownApps(): KnownApp[] {
  const root = appsDir();
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const stateDir = join(root, entry.name);
      let appDir: string | undefined;
      try {
        appDir = readFileSync(join(stateDir, 'app-dir'), 'utf8').trim() || undefined;
      } catch {
        appDir = undefined;
      }
      // Commands about this app use this state dir, whatever its config says now.
      if (appDir) pinStateDir(appDir, stateDir);
      return { name: entry.name, stateDir, appDir };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * What the app's agent serves, asked once with a short timeout and never started or waited
 * for: `ccom ls` over many apps must not start agents nor wait 5 s for each one that is gone.
 */
export async function peekAgent(app: KnownApp): Promise<TargetStatus | null> {
  if (!app.appDir) return null;
  const paths = localPaths(app.appDir);
  try {
    const res = await socketRequest(paths.socket, 'GET', '/v1/status', undefined, 2000);
    return res.status === 200 ? statusOffWire(JSON.parse(res.body) as Wire.AgentStatus) : null;
  } catch {
    return null;
  }
}
