// Exponential backoff with full jitter: a random wait in [0, min(max, base * 2^attempt)], never
// below `min`, so a fleet of clients reconnecting at once spreads out (docs/protocol.md, "The SDK").
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  random: () => number;
}

export function fullJitterDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.minMs * 2 ** Math.max(0, attempt));
  return Math.max(options.minMs, Math.floor(options.random() * ceiling));
}
