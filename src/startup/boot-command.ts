import { realpathSync } from 'node:fs';
import { ccomHome } from '../ccom-home.js';

/** What runs at boot: this node and this ccom, `up --all`, with the state home and PATH of now. */
export interface BootCommand {
  argv: string[];
  env: Record<string, string>;
}

export function bootCommand(): BootCommand {
  const cli = realpathSync(process.argv[1] ?? '');
  return {
    argv: [process.execPath, cli, 'up', '--all'],
    // The home is written out: at boot no shell profile sets CCOM_HOME or XDG_STATE_HOME.
    env: { CCOM_HOME: ccomHome(), PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' },
  };
}

/** A word for sh (and systemd's ExecStart, which splits on the same quotes). */
export function quoted(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
