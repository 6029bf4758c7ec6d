/** What a secret value is replaced with wherever ccom prints or stores command output. */
export const REDACTED = '[redacted]';

/**
 * Values shorter than this are left alone: "1", "on" or "dev" occur everywhere, so hiding them
 * would garble output while protecting nothing an attacker could not guess.
 */
export const MIN_SECRET_LENGTH = 4;

/**
 * The values to hide for the given variable names. A multi-line value (a PEM key) is hidden
 * whole and line by line too, since output is often cut into its last lines.
 */
export function secretValues(env: Record<string, string | undefined>, names: Iterable<string>): string[] {
  const values = new Set<string>();
  for (const name of names) {
    const value = env[name];
    if (value === undefined) continue;
    for (const part of [value, ...value.split(/\r?\n/).map((line) => line.trim())]) {
      if (part.length >= MIN_SECRET_LENGTH) values.add(part);
    }
  }
  return [...values];
}

/** `text` with every occurrence of each value replaced by `[redacted]`, longest values first. */
export function redact(text: string, values: Iterable<string>): string {
  const sorted = [...values].sort((a, b) => b.length - a.length);
  let out = text;
  for (const value of sorted) if (out.includes(value)) out = out.split(value).join(REDACTED);
  return out;
}

/**
 * The secrets this process has read (env-file values, required variables). Every command's
 * output is redacted with them before anyone sees it, so a gate, build, migration or backup
 * command that prints a secret cannot leak it into the terminal, `--json` or history, whichever
 * code path ran the command.
 */
const known = new Set<string>();

export function protectSecrets(values: Iterable<string>): void {
  for (const value of values) known.add(value);
}

export function redactKnown(text: string): string {
  return known.size === 0 ? text : redact(text, known);
}
