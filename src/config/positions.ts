import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';

type Path = readonly PropertyKey[];

/**
 * `:LINE:COL` of what a config message is about, as editors and terminals link it
 * (`ccom.yaml:4:12`), or '' when the text has no such place. `key` asks for an (unknown) key
 * itself; without it the position is the value at `path`, else the deepest key that exists on
 * the way there (a missing `health.path` points at `health:`).
 */
export type Locate = (path: Path, key?: string) => string;

export const nowhere: Locate = () => '';

/** A locator over the parsed YAML document whose ranges `counter` turns into lines. */
export function yamlLocator(doc: Document, counter: LineCounter): Locate {
  const at = (offset: number | undefined) => {
    if (offset === undefined) return '';
    const { line, col } = counter.linePos(offset);
    return `:${line}:${col}`;
  };
  return (path, key) => {
    const segments = key === undefined ? path : [...path, key];
    let node: unknown = doc.contents;
    let offset = rangeStart(node);
    for (const [i, seg] of segments.entries()) {
      let keyStart: number | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!pair) break;
        keyStart = rangeStart(pair.key);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
      } else {
        break;
      }
      const last = i === segments.length - 1;
      // The key itself when asked for it (or when its value is empty: `app:`), else its value.
      const empty = rangeStart(node) === undefined || (isScalar(node) && node.value === null);
      offset = (last && key !== undefined) || empty ? (keyStart ?? offset) : rangeStart(node);
    }
    return at(offset);
  };
}

/** JSON is YAML: its positions come from the same parser, while JSON.parse still decides what is valid. */
export function jsonLocator(text: string): Locate {
  const counter = new LineCounter();
  return yamlLocator(parseDocument(text, { lineCounter: counter }), counter);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}
