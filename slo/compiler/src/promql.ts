// PromQL fragments shared by the recording rules and the canary analysis, so both measure the SLI
// the same way.
import { formatSelector, withMatchLabels } from './selector.js';
import type { RatioSli, Selector } from './types.js';

/**
 * Sum of the counters' per-second rates. With `zeroWhenMissing`, a counter with no series yet (no
 * 5xx was ever counted) is 0 through `or vector(0)` instead of making the whole sum vanish.
 */
export function sumOfRates(selectors: Selector[], window: string, zeroWhenMissing = true): string {
  const terms = selectors.map(
    (selector) =>
      `sum(rate(${formatSelector(selector)}[${window}]))${zeroWhenMissing ? ' or vector(0)' : ''}`,
  );
  return terms.length === 1 ? terms[0]! : terms.map((term) => `(${term})`).join(' + ');
}

/**
 * Bad events per second: the `bad` counters, or `total - good` (never below 0). Only counters of
 * failures are 0 when missing: a missing good counter (a bucket renamed or dropped) leaves no sample,
 * so the burn alerts stay quiet and the SLI's absent alert says why, instead of every event counting
 * as bad and paging a 100 % burn.
 */
export function errorsRate(sli: RatioSli, window: string, matchLabels: Record<string, string> = {}): string {
  const scope = (selectors: Selector[]): Selector[] => selectors.map((s) => withMatchLabels(s, matchLabels));
  if (sli.good) {
    return `clamp_min((${sumOfRates(scope(sli.total), window)}) - (${sumOfRates(scope(sli.good), window, false)}), 0)`;
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
