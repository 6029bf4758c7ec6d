import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { DEFAULT_LOG_MAX_BYTES, ROTATED_LOGS_KEPT } from '../config/logs-schema.js';
import { stampLines } from './log-stamp.js';
import { Socket } from 'node:net';
import { dirname } from 'node:path';

/**
 * An instance's stdout and stderr, carried to its log file by the agent through a FIFO beside
 * it. The app never writes to the disk itself, so a full disk cannot fail its writes (Node
 * crashes on a failed synchronous stdout write): the agent drops what it cannot store.
 *
 * The instance gets an O_RDWR descriptor of the FIFO, so it always holds a reader too and
 * never sees EPIPE while the agent is down (kill -9, restart); its output waits in the pipe
 * until the next agent opens the FIFO again and reads on.
 *
 * Each line is stored with the time the agent read it (`<ISO time> <line>`, log-stamp.ts), and
 * the file is rotated at `maxBytes` (`<id>.log.1` … `.3` kept), so output is bounded on disk.
 */
export class InstanceLog {
  /** Given to the instance as stdout and stderr; the agent keeps it open so its reader never sees EOF between restarts. */
  readonly writerFd: number;
  private readonly readerFd: number;
  private readonly reader: Socket;
  private fileFd: number | undefined;
  private droppedLines = 0;
  private closed = false;
  /** The last chunk ended mid-line: the next one continues that line, unstamped. */
  private midLine = false;
  /** Bytes in the live file (known once it is opened). */
  private size = 0;

  constructor(
    readonly file: string,
    private readonly log: (message: string) => void,
    private readonly maxBytes = DEFAULT_LOG_MAX_BYTES,
  ) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const fifo = fifoOf(file);
    ensureFifo(fifo);
    this.writerFd = openSync(fifo, constants.O_RDWR);
    try {
      this.readerFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      closeSync(this.writerFd); // EMFILE: nothing half-open is left behind
      throw err;
    }
    this.reader = new Socket({ fd: this.readerFd, readable: true, writable: false });
    this.reader.on('data', (chunk: Buffer) => this.append(chunk));
    this.reader.on('error', (err) => this.log(`log pipe of ${file}: ${err.message}`));
  }

  /** Appends what waits in the pipe now: before the log is read to explain a failed boot. */
  drain(): void {
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      let n: number;
      try {
        n = readSync(this.readerFd, buf, 0, buf.length, null);
      } catch {
        return; // EAGAIN: the pipe is empty
      }
      if (n <= 0) return;
      this.append(buf.subarray(0, n));
    }
  }

  /** Stores what is left, then closes the pipe for good (the instance is stopped). */
  close(): void {
    if (this.closed) return;
    this.drain();
    this.closed = true;
    this.reader.destroy();
    closeSync(this.writerFd);
    if (this.fileFd !== undefined) closeSync(this.fileFd);
    try {
      unlinkSync(fifoOf(this.file));
    } catch {
      /* already gone */
    }
  }

  private append(raw: Buffer): void {
    try {
      if (this.fileFd === undefined) {
        this.fileFd = openSync(this.file, 'a', 0o600);
        this.size = fstatSync(this.fileFd).size;
      }
      const chunk = stampLines(raw, this.midLine, new Date());
      this.midLine = raw[raw.length - 1] !== 10;
      for (let at = 0; at < chunk.length; ) at += writeSync(this.fileFd, chunk, at);
      this.size += chunk.length;
      // At a line's end, so lines stay whole; output that never ends a line is cut at twice the size.
      if ((this.size >= this.maxBytes && !this.midLine) || this.size >= 2 * this.maxBytes) this.rotate();
      if (this.droppedLines > 0) {
        this.log(`log ${this.file} is written again; ${this.droppedLines} line(s) were dropped meanwhile`);
        this.droppedLines = 0;
      }
    } catch (err) {
      // A full disk (or any write error) costs log lines, never the instance.
      if (this.droppedLines === 0) this.log(`cannot write ${this.file} (${(err as Error).message}); dropping the instance's log lines until it can`);
      this.droppedLines += Math.max(1, countLines(raw));
    }
  }

  /** `<id>.log` becomes `<id>.log.1` (older ones move up, the oldest goes); a new live file follows. */
  private rotate(): void {
    if (this.fileFd !== undefined) closeSync(this.fileFd);
    this.fileFd = undefined;
    rmSync(`${this.file}.${ROTATED_LOGS_KEPT}`, { force: true });
    for (let n = ROTATED_LOGS_KEPT - 1; n >= 1; n--) {
      try {
        renameSync(`${this.file}.${n}`, `${this.file}.${n + 1}`);
      } catch {
        /* not that many yet */
      }
    }
    renameSync(this.file, `${this.file}.1`);
    this.size = 0;
  }
}

export function fifoOf(logFile: string): string {
  return logFile.replace(/\.log$/, '') + '.fifo';
}

/** Reuses the FIFO a previous agent made (output may wait in it); anything else there is replaced. */
function ensureFifo(fifo: string): void {
  const existing = lstatSync(fifo, { throwIfNoEntry: false });
  if (existing?.isFIFO()) return;
  if (existing) unlinkSync(fifo);
  const made = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`cannot create the log pipe ${fifo}: ${(made.stderr || made.error?.message || 'mkfifo failed').trim()}`);
}

function countLines(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}
