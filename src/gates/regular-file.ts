import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';

/** A path ccom was asked to read that is not a regular file (a FIFO, a directory, a device, a socket). */
export class NotRegularFile extends Error {
  readonly code = 'ENOTREG';

  constructor(
    readonly file: string,
    /** What it is instead, in words: "a FIFO (named pipe)", "a directory", … */
    readonly kind: string,
  ) {
    super(`${file} is ${kind}, not a regular file`);
    this.name = 'NotRegularFile';
  }
}

/**
 * Reads a file that must be a regular file, without ever blocking: a synchronous read of a
 * FIFO waits for a writer forever and no signal handler runs meanwhile (the event loop is
 * stuck), and a device can stream without end. The path is stat'ed first so a device is never
 * opened at all, then opened with O_NONBLOCK (a FIFO opens at once even then) and checked again
 * on the open descriptor, so a file swapped in between cannot slip through.
 * Other failures (ENOENT, EACCES) are thrown as they are.
 */
export function readRegularFile(file: string): string {
  assertRegular(file, statSync(file));
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    assertRegular(file, fstatSync(fd));
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function assertRegular(file: string, stats: Stats): void {
  if (!stats.isFile()) throw new NotRegularFile(file, kindOf(stats));
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'of an unknown kind';
}
