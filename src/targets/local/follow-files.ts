import { closeSync, openSync, readSync, statSync, watch } from 'node:fs';

/** What was appended to one file since the last read, as written (it may end mid-line). */
export interface Appended {
  file: string;
  text: string;
}

/** Yields what is appended to the files, from their size now, until the consumer stops. */
export async function* followFiles(files: string[]): AsyncGenerator<Appended> {
  const offsets = new Map(files.map((f) => [f, statSync(f).size]));
  const pending: Appended[] = [];
  let wake: (() => void) | undefined;
  const readNew = (file: string) => {
    const from = offsets.get(file) ?? 0;
    const size = statSync(file).size;
    offsets.set(file, size);
    if (size <= from) return;
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(size - from);
    readSync(fd, buf, 0, buf.length, from);
    closeSync(fd);
    pending.push({ file, text: buf.toString('utf8') });
    wake?.();
  };
  const watchers = files.map((file) => watch(file, () => readNew(file)));
  try {
    for (;;) {
      for (let next = pending.shift(); next; next = pending.shift()) yield next;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    for (const watcher of watchers) watcher.close();
  }
}
