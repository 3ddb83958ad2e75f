// Stream ids (`<ms>-<seq>`) compared as numbers, not strings ("9-0" < "10-0").
export function compareIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map((part) => BigInt(part));
  const [bMs = 0n, bSeq = 0n] = b.split('-').map((part) => BigInt(part));
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

export function minId(ids: readonly string[]): string {
  return ids.reduce((a, b) => (compareIds(a, b) <= 0 ? a : b));
}

/** Milliseconds part of an id: when the entry was added. */
export function idTime(id: string): number {
  return Number(id.split('-')[0]);
}
