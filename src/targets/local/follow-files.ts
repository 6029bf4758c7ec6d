import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { listLogFiles, type LogFile } from './log-files.js';

/** What was appended to one instance's log since the last read, as written (it may end mid-line). */
export interface Appended {
  log: LogFile;
  text: string;
}

const POLL_MS = 250;

/**
 * Yields what is appended to the instance logs under `logsDir` until the consumer stops: the
 * given ones from their size now, and every log that appears later (an instance of a new
 * release, or one restarted) from its start, so `ccom logs -f` keeps showing the app across
 * deploys and restarts. Polled (4 times a second): a rotated file (smaller than what was read)
 * is finished from its `.1` first. `release` limits new logs to that release.
 */
export async function* followLogs(logsDir: string, initial: LogFile[], opts: { release?: string; known: Set<string> }): AsyncGenerator<Appended> {
  const offsets = new Map(initial.map((log) => [log.file, sizeOf(log.file)]));
  const logs = new Map(initial.map((log) => [log.file, log]));
  for (;;) {
    for (const log of listLogFiles(logsDir, opts.release)) {
      // Logs present at the start but not asked for (stopped instances) stay out.
      if (!logs.has(log.file) && !opts.known.has(log.file)) {
        logs.set(log.file, log);
        offsets.set(log.file, 0);
      }
    }
    for (const [file, log] of logs) {
      const from = offsets.get(file) ?? 0;
      const size = sizeOf(file);
      if (size < from) {
        // Rotated: the rest of the old file is now `.1`.
        const rest = readRange(`${file}.1`, from);
        if (rest) yield { log, text: rest };
        offsets.set(file, 0);
        continue;
      }
      if (size === from) continue;
      offsets.set(file, size);
      const text = readRange(file, from, size);
      if (text) yield { log, text };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readRange(file: string, from: number, to?: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const end = to ?? sizeOf(file);
    if (end <= from) return '';
    const buf = Buffer.alloc(end - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
