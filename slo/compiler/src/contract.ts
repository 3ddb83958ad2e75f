// Metric-name drift checks: which metric names a PromQL expression reads, and which names the
// "Metric names" contract of docs/architecture.md promises. Tests of the SLOs and dashboards use both.

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/** Metric names an expression selects, sorted; functions, keywords, labels and strings are left out. */
export function promqlMetricNames(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings (label values, regexes)
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries, `$__rate_interval` included
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\boffset\s+-?\w+/g, ' ');
  const names = new Set<string>();
  const token = /[a-zA-Z_:][a-zA-Z0-9_:]*|(?:\d*\.)?\d+(?:e[+-]?\d+)?|\S/gi;
  for (const match of text.matchAll(token)) {
    const word = match[0];
    if (!/^[a-zA-Z_:]/.test(word) || KEYWORDS.has(word.toLowerCase())) continue;
    const after = text.slice(match.index + word.length).trimStart();
    if (after.startsWith('(')) continue; // a function call
    names.add(word);
  }
  return [...names].sort();
}

export interface MetricContract {
  /** Every metric name promised, with `<prefix>` expanded for each service prefix. */
  names: Set<string>;
  /** The histograms among them (exported as `_bucket`, `_count` and `_sum`). */
  histograms: Set<string>;
}

/** Reads the "### Metric names" section of docs/architecture.md. */
export function parseMetricContract(markdown: string): MetricContract {
  const start = markdown.indexOf('### Metric names');
  if (start < 0) throw new Error('docs/architecture.md has no "### Metric names" section');
  const end = markdown.indexOf('\n#', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const prefixLine = section.split('\n').find((line) => /has a prefix/.test(line)) ?? '';
  const prefixes = [...prefixLine.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
  if (prefixes.length === 0) throw new Error('the Metric names section lists no service prefixes');

  const names = new Set<string>();
  const histograms = new Set<string>();
  const add = (name: string, histogram: boolean): void => {
    const expanded = name.includes('<prefix>') ? prefixes.map((p) => name.replace('<prefix>', p)) : [name];
    for (const each of expanded) {
      names.add(each);
      if (histogram) histograms.add(each);
    }
  };
  for (const line of section.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line.split('|').map((cell) => cell.trim());
      const type = cells[2] ?? '';
      for (const m of (cells[1] ?? '').matchAll(/`([a-z_<>]+)`/g)) add(m[1]!, type.startsWith('histogram'));
    } else {
      // Prose lists: `name{labels}` (histogram, ...) marks a histogram.
      for (const m of line.matchAll(/`([a-z_<>]+)(?:\{[^`]*\})?`(\s*\(histogram)?/g)) {
        if (m[1]!.includes('_')) add(m[1]!, m[2] !== undefined);
      }
    }
  }
  for (const prefix of prefixes) names.delete(prefix);
  return { names, histograms };
}

/** Whether the contract promises a name, counting a histogram's `_bucket`, `_count` and `_sum`. */
export function contractCovers(contract: MetricContract, name: string): boolean {
  if (contract.names.has(name)) return true;
  const base = /^(.*)_(?:bucket|count|sum)$/.exec(name)?.[1];
  return base !== undefined && contract.histograms.has(base);
}
