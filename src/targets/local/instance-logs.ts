import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tailFile } from '../../agent/log-tail.js';
import { UserError } from '../../errors.js';
import type { LogLine, LogQuery } from '../types.js';
import { followFiles } from './follow-files.js';

/**
 * The local target's `logs`: the agent appends each instance's output to
 * `logs/<release>/<instance>.log`; this reads the last lines of each, then follows them.
 */
export async function* instanceLogs(logsDir: string, query: LogQuery): AsyncGenerator<LogLine> {
  const dir = join(logsDir, query.release);
  if (!existsSync(dir)) throw new UserError(`no logs for release ${query.release}`, { fix: 'check the id with `ccom releases`' });
  const files = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => join(dir, f));
  for (const file of files) {
    const tail = tailFile(file, query.lines);
    if (tail) yield* linesOf(file, tail);
  }
  if (!query.follow) return;
  // A piece of output is shown as written: one that ends mid-line is a line of its own.
  for await (const { file, text } of followFiles(files)) yield* linesOf(file, text.replace(/\n$/, ''));
}

function linesOf(file: string, text: string): LogLine[] {
  const instance = basename(file).replace(/\.log$/, '');
  return text.split('\n').map((line) => ({ instance, line }));
}
