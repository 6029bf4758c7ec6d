/** One argument for the remote login shell (POSIX sh): single-quoted, inner quotes closed and escaped. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
