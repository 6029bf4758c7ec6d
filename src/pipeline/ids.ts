import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';

/** Sortable, readable ids: 20261127-211500-a1b2 (UTC). */
function stamp(): string {
  const iso = new Date().toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

export function newReleaseId(): string {
  return `${stamp()}-${randomBytes(2).toString('hex')}`;
}

export function newDeploymentId(): string {
  return `d-${stamp()}-${randomBytes(2).toString('hex')}`;
}

/** Who runs this command, for history and the lock: CCOM_USER or user@host. */
export function whoAmI(): string {
  if (process.env.CCOM_USER) return process.env.CCOM_USER;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return `${user}@${hostname()}`;
}
