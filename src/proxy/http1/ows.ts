/**
 * The field value: `line` from `start` (to `end`), without leading or trailing SP and HTAB (RFC 9110 §5.5).
 * Not String#trim, which also strips NBSP (0xA0): "chunked\xa0" must not pass for "chunked".
 */
export function trimOws(line: string, start: number, end = line.length): string {
  let from = start;
  let to = end;
  while (from < to && (line.charCodeAt(from) === 0x20 || line.charCodeAt(from) === 0x09)) from++;
  while (to > from && (line.charCodeAt(to - 1) === 0x20 || line.charCodeAt(to - 1) === 0x09)) to--;
  return line.slice(from, to);
}
