// PromQL fragments shared by the recording rules and the canary analysis, so both measure the SLI
// the same way.
import { formatSelector, withMatchLabels } from './selector.js';
import type { RatioSli, Selector } from './types.js';

/**
 * Sum of the counters' per-second rates. A counter with no series yet (no 5xx was ever counted)
 * is 0 through `or vector(0)` instead of making the whole sum vanish.
 */
export function sumOfRates(selectors: Selector[], window: string): string {
  const terms = selectors.map((selector) => `sum(rate(${formatSelector(selector)}[${window}])) or vector(0)`);
  return terms.length === 1 ? terms[0]! : terms.map((term) => `(${term})`).join(' + ');
}

/** Bad events per second: the `bad` counters, or `total - good` (never below 0). */
export function errorsRate(sli: RatioSli, window: string, matchLabels: Record<string, string> = {}): string {
  const scope = (selectors: Selector[]): Selector[] => selectors.map((s) => withMatchLabels(s, matchLabels));
  if (sli.good) {
    return `clamp_min((${sumOfRates(scope(sli.total), window)}) - (${sumOfRates(scope(sli.good), window)}), 0)`;
  }
  return sumOfRates(scope(sli.bad!), window);
}

/** All events per second. */
export function totalRate(sli: RatioSli, window: string, matchLabels: Record<string, string> = {}): string {
  return sumOfRates(
    sli.total.map((s) => withMatchLabels(s, matchLabels)),
    window,
  );
}
