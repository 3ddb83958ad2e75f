// Every generated name in one place: recording rules, alert names, windows. Dashboards and the
// operator import these instead of spelling the strings again.

/** Windows recorded for every SLI, shortest first; the SLO's period is added to them. */
export const SLI_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/** Windows up to this length are computed from the raw counters; longer ones from the 5m recordings. */
export const LONGEST_RAW_WINDOW = '6h';

/** Bad events per second over a window. */
export const errorsRateRecord = (window: string): string => `slo:sli_errors:rate${window}`;
/** All events per second over a window. */
export const totalRateRecord = (window: string): string => `slo:sli_total:rate${window}`;
/** Bad / all over a window; absent while there is no traffic, never NaN. */
export const errorRatioRecord = (window: string): string => `slo:sli_error:ratio_rate${window}`;

export const OBJECTIVE_RECORD = 'slo:objective:ratio';
export const ERROR_BUDGET_RECORD = 'slo:error_budget:ratio';
export const PERIOD_DAYS_RECORD = 'slo:time_period:days';
/** Error ratio over 5m divided by the budget; 0 without traffic. */
export const CURRENT_BURN_RATE_RECORD = 'slo:current_burn_rate:ratio';
/** Error ratio over the whole period divided by the budget; 0 without traffic. */
export const PERIOD_BURN_RATE_RECORD = 'slo:period_burn_rate:ratio';
/** 1 - period burn rate: 1 is untouched, 0 is spent, below 0 is overspent. */
export const BUDGET_REMAINING_RECORD = 'slo:error_budget_remaining:ratio';

/** "message-delivery" -> "MessageDelivery". */
export function pascalCase(name: string): string {
  return name
    .split(/[-_.]/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** The multi-window burn-rate alert of an SLO (both severities share it; labels tell them apart). */
export const burnAlertName = (sloName: string): string => `${pascalCase(sloName)}ErrorBudgetBurn`;
/** Fires when the SLI's counters are not exported at all. */
export const absentAlertName = (sloName: string): string => `${pascalCase(sloName)}SLIAbsent`;
