import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** `$CCOM_HOME`, else `$XDG_STATE_HOME/ccom`, else `~/.local/state/ccom`: where ccom keeps state. */
export function ccomHome(): string {
  if (process.env.CCOM_HOME) return resolve(process.env.CCOM_HOME);
  const xdg = process.env.XDG_STATE_HOME;
  // The XDG spec says to ignore a relative value.
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state'), 'ccom');
}

/** The folder holding one state dir per app (`<app>/` is the config's `app:`). */
export function appsDir(): string {
  return join(ccomHome(), 'apps');
}
