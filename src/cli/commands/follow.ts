import { closeSync, openSync, readSync, statSync, type watch as Watch } from 'node:fs';

/** Prints what is appended to the files until the process is interrupted. */
export function followFiles(files: string[], print: (file: string, text: string) => void, watch: typeof Watch): Promise<void> {
  const offsets = new Map(files.map((f) => [f, statSync(f).size]));
  const readNew = (file: string) => {
    const from = offsets.get(file) ?? 0;
    const size = statSync(file).size;
    if (size <= from) return offsets.set(file, size);
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(size - from);
    readSync(fd, buf, 0, buf.length, from);
    closeSync(fd);
    offsets.set(file, size);
    print(file, buf.toString('utf8'));
  };
  for (const file of files) watch(file, () => readNew(file));
  return new Promise(() => {});
}
