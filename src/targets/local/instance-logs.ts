import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseStamped } from '../../agent/log-stamp.js';
import { UserError } from '../../errors.js';
import type { LogLine, LogQuery } from '../types.js';
import { followLogs } from './follow-files.js';
import { allLines, lastLines, listLogFiles, type LogFile } from './log-files.js';

/**
 * The local target's `logs`: the agent appends each instance's output, each line stamped with
 * its time, to `logs/<release>/<instance>.log` (rotated to `.log.1` … by size). This reads the
 * last lines (or those since a time) of each asked-for instance, in time order, then follows.
 */
export async function* instanceLogs(logsDir: string, query: LogQuery): AsyncGenerator<LogLine> {
  if (query.release && !existsSync(join(logsDir, query.release))) throw new UserError(`no logs for release ${query.release}`, { fix: 'check the id with `ccom releases`' });
  const every = listLogFiles(logsDir, query.release);
  const asked = query.instances ? every.filter((log) => query.instances?.includes(log.instance)) : every;
  const history = asked.flatMap((log) => {
    const raw = query.sinceMs === undefined ? lastLines(log.file, query.lines) : allLines(log.file);
    return raw.map((stored) => lineOf(log, stored));
  });
  const since = query.sinceMs;
  const shown = since === undefined ? history : history.filter((l) => l.at !== undefined && Date.parse(l.at) >= since);
  // Instances interleaved by time; lines of an older ccom (no time) keep their order, first.
  yield* shown.map((line, i) => ({ line, i })).sort((a, b) => (a.line.at ?? '').localeCompare(b.line.at ?? '') || a.i - b.i).map((x) => x.line);
  if (!query.follow) return;
  const known = new Set(every.map((log) => log.file));
  const pieces = new Map<string, string>();
  for await (const { log, text } of followLogs(logsDir, asked, { release: query.release, known })) {
    // Whole lines only (a piece waits for its end), so each one has its time.
    const buffered = (pieces.get(log.file) ?? '') + text;
    const end = buffered.lastIndexOf('\n');
    pieces.set(log.file, end === -1 ? buffered : buffered.slice(end + 1));
    if (end === -1) continue;
    for (const stored of buffered.slice(0, end).split('\n')) yield lineOf(log, stored);
  }
}

function lineOf(log: LogFile, stored: string): LogLine {
  const { at, text } = parseStamped(stored);
  return { instance: log.instance, release: log.release, line: text, ...(at ? { at } : {}) };
}
