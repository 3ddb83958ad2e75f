// Verification results: each check names what it compared and both values, so a failed restore says
// exactly what is missing or different.
export interface Check {
  store: 'postgres' | 'mongo';
  what: string;
  expected: string;
  actual: string;
  ok: boolean;
}

export function check(store: Check['store'], what: string, expected: unknown, actual: unknown): Check {
  const e = typeof expected === 'string' ? expected : JSON.stringify(expected);
  const a = typeof actual === 'string' ? actual : JSON.stringify(actual);
  return { store, what, expected: e, actual: a, ok: e === a };
}

export function formatChecks(checks: readonly Check[]): string {
  return checks
    .map(
      (c) =>
        `${c.ok ? 'ok  ' : 'FAIL'} ${c.store.padEnd(8)} ${c.what}${c.ok ? '' : `: expected ${c.expected}, got ${c.actual}`}`,
    )
    .join('\n');
}
