// Series selectors (`metric{label="value"}`) parsed instead of pasted as text, so the compiler can
// add matchers (a namespace), build `absent()` from them, and tests can list the metric names used.
import type { LabelMatcher, Selector } from './types.js';

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const OPS = ['=~', '!~', '!=', '='] as const;
const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', "'": "'", n: '\n', t: '\t' };

/**
 * Parses one series selector. Throws an Error whose message says what was expected and where; the
 * caller prefixes the field path.
 */
export function parseSelector(text: string): Selector {
  let pos = 0;
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const fail = (expected: string): never => {
    throw new Error(`expected ${expected} at character ${pos + 1} of ${JSON.stringify(text)}`);
  };
  const take = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = pos;
    const match = pattern.exec(text);
    if (!match) return undefined;
    pos += match[0].length;
    return match[0];
  };
  const quoted = (): string => {
    const quote = text[pos];
    if (quote !== '"' && quote !== "'" && quote !== '`') return fail('a quoted label value');
    pos++;
    let value = '';
    while (pos < text.length && text[pos] !== quote) {
      const char = text[pos]!;
      if (char === '\\' && quote !== '`') {
        const escaped = ESCAPES[text[pos + 1] ?? ''];
        if (escaped === undefined)
          fail('a known escape (\\\\, \\", \\n, \\t); write a regex backslash as \\\\');
        value += escaped;
        pos += 2;
      } else {
        value += char;
        pos++;
      }
    }
    if (pos >= text.length) fail(`a closing ${quote}`);
    pos++;
    return value;
  };

  skipSpace();
  const metric = take(NAME) ?? fail('a metric name');
  const matchers: LabelMatcher[] = [];
  skipSpace();
  if (text[pos] === '{') {
    pos++;
    skipSpace();
    while (text[pos] !== '}') {
      const name = take(LABEL) ?? fail('a label name or }');
      skipSpace();
      const op = OPS.find((candidate) => text.startsWith(candidate, pos)) ?? fail('=, !=, =~ or !~');
      pos += op.length;
      skipSpace();
      matchers.push({ name, op, value: quoted() });
      skipSpace();
      if (text[pos] === ',') {
        pos++;
        skipSpace();
      } else if (text[pos] !== '}') {
        fail(', or }');
      }
    }
    pos++;
  }
  skipSpace();
  if (pos !== text.length) fail('the end of the selector (a plain counter selector, no functions or ranges)');
  return { metric, matchers };
}

/** PromQL text of a selector; values are JSON-quoted, which PromQL reads the same way. */
export function formatSelector(selector: Selector): string {
  if (selector.matchers.length === 0) return selector.metric;
  const matchers = selector.matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`);
  return `${selector.metric}{${matchers.join(',')}}`;
}

/** The selector with equality matchers added (e.g. the namespace of one ChatCluster). */
export function withMatchLabels(selector: Selector, matchLabels: Record<string, string>): Selector {
  const extra = Object.entries(matchLabels).map(([name, value]): LabelMatcher => ({ name, op: '=', value }));
  return { metric: selector.metric, matchers: [...selector.matchers, ...extra] };
}
