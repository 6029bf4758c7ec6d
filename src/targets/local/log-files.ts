import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ROTATED_LOGS_KEPT } from '../../config/logs-schema.js';

/** One instance's log: `logs/<release>/<instance>.log`, with rotated `.log.1` … beside it. */
export interface LogFile {
  release: string;
  instance: string;
  file: string;
}

/** Every instance log of the given releases (all when none are named), oldest release first. */
export function listLogFiles(logsDir: string, release?: string): LogFile[] {
  const releases = release ? [release] : existsSync(logsDir) ? readdirSync(logsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort() : [];
  return releases.flatMap((r) => {
    const dir = join(logsDir, r);
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => ({ release: r, instance: f.slice(0, -'.log'.length), file: join(dir, f) }));
  });
}

export function logFileOf(file: string): LogFile {
  return { release: basename(dirname(file)), instance: basename(file).replace(/\.log$/, ''), file };
}

/** The rotated files, oldest first, then the live one: the instance's whole kept output. */
export function generations(file: string): string[] {
  const rotated: string[] = [];
  for (let n = ROTATED_LOGS_KEPT; n >= 1; n--) if (existsSync(`${file}.${n}`)) rotated.push(`${file}.${n}`);
  return [...rotated, file];
}

/** All kept lines (for --since and --grep over everything). */
export function allLines(file: string): string[] {
  return generations(file).flatMap((f) => {
    try {
      return readFileSync(f, 'utf8').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
    } catch {
      return [];
    }
  });
}

/** The last `count` lines, reading at most 64 KiB from the end of each generation needed. */
export function lastLines(file: string, count: number): string[] {
  const out: string[] = [];
  for (const f of generations(file).reverse()) {
    const text = readEnd(f, 64 * 1024);
    const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
    out.unshift(...lines.slice(-(count - out.length)));
    if (out.length >= count) break;
  }
  return out;
}

function readEnd(file: string, max: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, max);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const text = buf.toString('utf8');
    // Cut at the start: the first line may be a piece.
    return length < size ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    closeSync(fd);
  }
}
