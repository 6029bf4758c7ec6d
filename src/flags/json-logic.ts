/**
 * JsonLogic (jsonlogic.com), compiled once per flag into closures: evaluating a flag walks no
 * JSON and builds no code at run time (no `new Function`, unlike json-logic-engine's compiler).
 * Semantics follow json-logic-engine 5, the engine flagd's JS evaluator uses: truthiness where
 * `[]` is false, `and`/`or` returning the deciding operand, loose comparisons on numbers unless
 * both sides are strings (a comparison of something that is no number fails the evaluation).
 * Operators beyond the basics (flagd's `fractional`, `sem_ver`…) are passed in as `custom`.
 */
export type Data = Record<string, unknown>;
export type Compiled = (data: Data) => unknown;
/** A custom operator: gets its arguments already evaluated (as flagd's methods do) and the data. */
export type CustomOperator = (args: unknown[], data: Data) => unknown;

/** A rule that cannot be compiled: `path` is its JSON pointer inside the rule. */
export class LogicSyntaxError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/** A rule that failed while evaluating (a comparison of values that are no numbers). */
export class LogicRuntimeError extends Error {}

export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}

export const BASIC_OPERATORS = [
  'var', 'missing', 'missing_some', 'if', '?:', '==', '===', '!=', '!==', '<', '<=', '>', '>=', '!', '!!', 'and', 'or',
  'in', 'cat', 'substr', '+', '-', '*', '/', '%', 'min', 'max', 'merge', 'map', 'filter', 'all', 'none', 'some',
] as const;

const BASIC = new Set<string>(BASIC_OPERATORS);

export function compileLogic(logic: unknown, custom: Record<string, CustomOperator>, path = ''): Compiled {
  // Literal data (no operator anywhere inside) is the same value at every evaluation: no copies.
  if (isLiteral(logic)) return () => logic;
  if (Array.isArray(logic)) {
    const items = logic.map((item, i) => compileLogic(item, custom, `${path}/${i}`));
    return (data) => items.map((item) => item(data));
  }
  if (logic === null || typeof logic !== 'object') return () => logic;
  const keys = Object.keys(logic);
  // An object that is not one operator is data (json-logic-engine treats it so too).
  if (keys.length !== 1) return () => logic;
  const op = keys[0] as string;
  const raw = (logic as Record<string, unknown>)[op];
  const at = `${path}/${escapePointer(op)}`;
  const rawArgs = Array.isArray(raw) ? raw : [raw];
  const args = (): Compiled[] => rawArgs.map((a, i) => compileLogic(a, custom, Array.isArray(raw) ? `${at}/${i}` : at));
  const customOp = Object.hasOwn(custom, op) ? custom[op] : undefined;
  if (customOp) {
    // Constant arguments reach the operator as one array, every time (fractional caches its buckets by it).
    if (rawArgs.every(isLiteral)) return (data) => customOp(rawArgs, data);
    const compiled = args();
    return (data) => customOp(compiled.map((a) => a(data)), data);
  }
  if (!BASIC.has(op)) throw new LogicSyntaxError(at, `unknown operator "${op}"`);
  return compileBasic(op, args(), raw, at, custom);
}

function compileBasic(op: string, a: Compiled[], raw: unknown, at: string, custom: Record<string, CustomOperator>): Compiled {
  const need = (min: number) => {
    if (a.length < min) throw new LogicSyntaxError(at, `"${op}" needs at least ${min} argument${min > 1 ? 's' : ''}`);
  };
  const first = a[0] ?? (() => undefined);
  const second = a[1] ?? (() => undefined);
  switch (op) {
    case 'var': {
      const key = Array.isArray(raw) ? raw[0] : raw;
      if ((typeof key === 'string' && key !== '') || typeof key === 'number') {
        // The usual `{"var": "email"}`: the path is split once, here.
        const parts = String(key).split('.');
        return a.length > 1 ? (data) => readPath(parts, second(data), data) : (data) => readPath(parts, null, data);
      }
      return (data) => readVar(first(data), a.length > 1 ? second(data) : null, data);
    }
    case 'missing':
      return (data) => missing(a.flatMap((arg) => toList(arg(data))), data);
    case 'missing_some':
      need(2);
      return (data) => {
        const wanted = toList(second(data));
        const absent = missing(wanted, data);
        return wanted.length - absent.length >= Number(first(data)) ? [] : absent;
      };
    case 'if':
    case '?:':
      return (data) => {
        let i = 0;
        for (; i + 1 < a.length; i += 2) if (truthy((a[i] as Compiled)(data))) return (a[i + 1] as Compiled)(data);
        return i < a.length ? (a[i] as Compiled)(data) : null;
      };
    case '==': case '!=': case '===': case '!==': case '<': case '<=': case '>': case '>=':
      need(2);
      return comparison(op, a);
    case '!':
      return (data) => !truthy(first(data));
    case '!!':
      return (data) => truthy(first(data));
    case 'and':
      return (data) => {
        let value: unknown = undefined;
        for (const arg of a) if (!truthy((value = arg(data)))) return value;
        return value;
      };
    case 'or':
      return (data) => {
        let value: unknown = undefined;
        for (const arg of a) if (truthy((value = arg(data)))) return value;
        return value;
      };
    case 'in':
      need(2);
      return (data) => {
        const item = first(data);
        const within = second(data);
        if (typeof within === 'string') return within.includes(String(item));
        return Array.isArray(within) ? within.includes(item) : false;
      };
    case 'cat':
      return (data) => a.map((arg) => arg(data)).filter((v) => v !== null && v !== undefined).map(String).join('');
    case 'substr':
      return (data) => {
        const s = String(first(data));
        const from = Number(second(data));
        if (a.length < 3) return s.slice(from < 0 ? Math.max(0, s.length + from) : from);
        const len = Number((a[2] as Compiled)(data));
        const start = from < 0 ? Math.max(0, s.length + from) : from;
        return len < 0 ? s.slice(start, s.length + len) : s.slice(start, start + len);
      };
    case '+':
      return (data) => a.reduce((sum, arg) => sum + numberOf(arg(data)), 0);
    case '*':
      return (data) => a.reduce((product, arg) => product * numberOf(arg(data)), 1);
    case '-':
      return (data) => (a.length === 1 ? -numberOf(first(data)) : numberOf(first(data)) - numberOf(second(data)));
    case '/':
      need(2);
      return (data) => numberOf(first(data)) / numberOf(second(data));
    case '%':
      need(2);
      return (data) => numberOf(first(data)) % numberOf(second(data));
    case 'min':
      return (data) => Math.min(...a.map((arg) => numberOf(arg(data))));
    case 'max':
      return (data) => Math.max(...a.map((arg) => numberOf(arg(data))));
    case 'merge':
      return (data) => a.flatMap((arg) => toList(arg(data)));
    default:
      return iteration(op, a, raw, at, custom);
  }
}

/** map, filter, all, none, some: the second argument runs with each element as its data. */
function iteration(op: string, a: Compiled[], raw: unknown, at: string, custom: Record<string, CustomOperator>): Compiled {
  if (!Array.isArray(raw) || raw.length < 2) throw new LogicSyntaxError(at, `"${op}" needs a list and a rule`);
  const list = a[0] as Compiled;
  const each = compileLogic(raw[1], custom, `${at}/1`);
  const items = (data: Data): unknown[] => toList(list(data));
  const run = (item: unknown): unknown => each(item as Data);
  switch (op) {
    case 'map':
      return (data) => items(data).map(run);
    case 'filter':
      return (data) => items(data).filter((item) => truthy(run(item)));
    case 'all':
      return (data) => {
        const list = items(data);
        return list.length > 0 && list.every((item) => truthy(run(item)));
      };
    case 'none':
      return (data) => !items(data).some((item) => truthy(run(item)));
    default:
      return (data) => items(data).some((item) => truthy(run(item)));
  }
}

function comparison(op: string, a: Compiled[]): Compiled {
  const strict = op.length === 3;
  const test = TESTS[op] as (x: unknown, y: unknown) => boolean;
  if (a.length === 2 || op.startsWith('=') || op.startsWith('!')) {
    const [left, right] = a as [Compiled, Compiled];
    return (data) => compare(left(data), right(data), strict, test);
  }
  // `{"<": [1, x, 10]}`: between, as a chain.
  return (data) => {
    let prev = (a[0] as Compiled)(data);
    for (let i = 1; i < a.length; i++) {
      const current = (a[i] as Compiled)(data);
      if (!compare(prev, current, strict, test)) return false;
      prev = current;
    }
    return true;
  };
}

const TESTS: Record<string, (x: unknown, y: unknown) => boolean> = {
  '==': (x, y) => x == y,
  '!=': (x, y) => x != y,
  '===': (x, y) => x === y,
  '!==': (x, y) => x !== y,
  '<': (x, y) => (x as number) < (y as number),
  '<=': (x, y) => (x as number) <= (y as number),
  '>': (x, y) => (x as number) > (y as number),
  '>=': (x, y) => (x as number) >= (y as number),
};

function compare(x: unknown, y: unknown, strict: boolean, test: (x: unknown, y: unknown) => boolean): boolean {
  const textual = (v: unknown) => typeof v === 'string' || v === null;
  if (strict || (textual(x) && textual(y))) return test(x, y);
  return test(comparable(x, false), comparable(y, x === null));
}

/** A loose comparison's number; something that is none fails the evaluation (json-logic-engine throws too). */
function comparable(value: unknown, afterNull: boolean): number {
  const n = value !== null && typeof value === 'object' ? NaN : Number(value);
  if (Number.isNaN(n) && !afterNull) throw new LogicRuntimeError(`cannot compare ${JSON.stringify(value)} as a number`);
  return n;
}

function numberOf(value: unknown): number {
  return Number(value);
}

function toList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
}

function readVar(key: unknown, fallback: unknown, data: Data): unknown {
  if (key === undefined || key === null || key === '') return data;
  return readPath(String(key).split('.'), fallback, data);
}

function readPath(parts: string[], fallback: unknown, data: Data): unknown {
  let current: unknown = data;
  for (const part of parts) {
    if (current === null || current === undefined || typeof current !== 'object') return fallback;
    current = (current as Record<string, unknown>)[part];
    if (current === undefined) return fallback;
  }
  return current;
}

function missing(keys: unknown[], data: Data): unknown[] {
  return keys.filter((key) => {
    const value = readVar(key, null, data);
    return value === null || value === '';
  });
}

/** True when `node` holds no operator: plain data, whatever its depth. */
function isLiteral(node: unknown): boolean {
  if (Array.isArray(node)) return node.every(isLiteral);
  if (node === null || typeof node !== 'object') return true;
  return Object.keys(node).length !== 1;
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
