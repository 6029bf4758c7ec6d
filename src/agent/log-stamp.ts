/**
 * Instance log lines on disk are `<ISO-8601 time> <line as the app wrote it>`: the time the agent
 * read it from the instance's pipe. `ccom logs` shows, filters (--since) and strips it.
 */
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /;

/** Prefixes every line that starts in `chunk` with `at` (a chunk may start mid-line: `midLine`). */
export function stampLines(chunk: Buffer, midLine: boolean, at: Date): Buffer {
  const stamp = Buffer.from(`${at.toISOString()} `);
  const parts: Buffer[] = [];
  let start = 0;
  let lineStart = !midLine;
  while (start < chunk.length) {
    const nl = chunk.indexOf(10, start);
    const end = nl === -1 ? chunk.length : nl + 1;
    if (lineStart) parts.push(stamp);
    parts.push(chunk.subarray(start, end));
    lineStart = nl !== -1;
    start = end;
  }
  return Buffer.concat(parts);
}

/** A stored line split into its time (undefined for lines of an older ccom, unstamped) and text. */
export function parseStamped(line: string): { at: string | undefined; text: string } {
  const m = STAMP.exec(line);
  return m ? { at: m[1], text: line.slice(m[0].length) } : { at: undefined, text: line };
}

/** Lines as the app wrote them (for a crashed boot's output shown to the user). */
export function unstamp(text: string): string {
  return text.split('\n').map((line) => parseStamped(line).text).join('\n');
}
