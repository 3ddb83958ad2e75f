// An independent model of what the alerts should do, written from the Google SRE Workbook rather
// than from the compiler: traffic is piecewise constant, window ratios are computed exactly, and the
// expected alerts follow. promtool then checks the compiled rules agree at chosen minutes.
//
// The model refuses to predict near a threshold (within MARGIN), where sampling and rate()
// extrapolation could legitimately tip either way; a scenario that asks for such a minute is
// mis-designed and fails loudly instead of flaking.

/** The workbook's multi-window, multi-burn-rate table (minutes), kept here as the specification. */
export const WORKBOOK_PAIRS = [
  {
    severity: 'critical',
    long: 60,
    short: 5,
    burnRate: 14.4,
    labels: { long_window: '1h', short_window: '5m', burn_rate: '14.4' },
  },
  {
    severity: 'critical',
    long: 360,
    short: 30,
    burnRate: 6,
    labels: { long_window: '6h', short_window: '30m', burn_rate: '6' },
  },
  {
    severity: 'warning',
    long: 1440,
    short: 120,
    burnRate: 3,
    labels: { long_window: '1d', short_window: '2h', burn_rate: '3' },
  },
  {
    severity: 'warning',
    long: 4320,
    short: 360,
    burnRate: 1,
    labels: { long_window: '3d', short_window: '6h', burn_rate: '1' },
  },
] as const;

/** Windows up to this many minutes are read from raw counters; longer ones average 5m rates. */
const LONGEST_RAW_WINDOW = 360;
const MARGIN = 0.05;

export interface Phase {
  minutes: number;
  /** Events per minute during the phase (0 = no traffic, counters flat). */
  eventsPerMinute: number;
  /** Error ratio as a multiple of the error budget: 1 spends the budget exactly. */
  burn: number;
}

export interface ModelSlo {
  name: string;
  service: string;
  budget: number;
  periodMinutes: number;
  minimumEvents: number;
  absentForMinutes: number;
  conditions: {
    alertName: string;
    severity: string;
    op: '>' | '>=';
    threshold: number;
    windowMinutes: number;
    forMinutes: number;
    labels: Record<string, string>;
  }[];
  burnAlertName: string;
  absentAlertName: string;
}

export interface ExpectedAlert {
  alertname: string;
  labels: Record<string, string>;
}

/** A truth value, and whether it is far enough from its threshold to be predicted. */
interface Verdict {
  value: boolean;
  robust: boolean;
}

const compare = (value: number | undefined, op: '>' | '>=', threshold: number): Verdict => {
  if (value === undefined) return { value: false, robust: true }; // no traffic: no ratio, no alert
  const result = op === '>' ? value > threshold : value >= threshold;
  return { value: result, robust: Math.abs(value - threshold) >= MARGIN * Math.abs(threshold) };
};

const all = (verdicts: Verdict[]): Verdict => {
  if (verdicts.some((v) => !v.value && v.robust)) return { value: false, robust: true };
  return { value: verdicts.every((v) => v.value), robust: verdicts.every((v) => v.robust) };
};

export class TrafficModel {
  constructor(
    private readonly slo: ModelSlo,
    private readonly phases: Phase[],
    /** false: the SLI's counters are not exported at all. */
    private readonly exported = true,
  ) {
    for (const phase of phases) {
      if (phase.burn * slo.budget > 1 + 1e-9)
        throw new Error(`burn ${phase.burn} exceeds 100 % errors for ${slo.name}`);
    }
  }

  get durationMinutes(): number {
    return this.phases.reduce((sum, phase) => sum + phase.minutes, 0);
  }

  /** Cumulative [events, errors] at minute t. */
  cumulative(t: number): [number, number] {
    let events = 0;
    let errors = 0;
    let start = 0;
    for (const phase of this.phases) {
      const span = Math.max(0, Math.min(t, start + phase.minutes) - start);
      events += span * phase.eventsPerMinute;
      errors += span * phase.eventsPerMinute * phase.burn * this.slo.budget;
      start += phase.minutes;
    }
    return [events, errors];
  }

  /** Error ratio over the window ending at t (data before minute 0 does not exist), or undefined. */
  ratio(windowMinutes: number, t: number): number | undefined {
    const from = Math.max(0, t - windowMinutes);
    const [eventsNow, errorsNow] = this.cumulative(t);
    const [eventsThen, errorsThen] = this.cumulative(from);
    const events = eventsNow - eventsThen;
    return events > 0 ? (errorsNow - errorsThen) / events : undefined;
  }

  /**
   * Events the guard sees in the window. Long windows average the recorded per-second rate and
   * multiply by the full window, so while less data than the window exists they extrapolate.
   */
  guardEvents(windowMinutes: number, t: number): number {
    const from = Math.max(0, t - windowMinutes);
    const events = this.cumulative(t)[0] - this.cumulative(from)[0];
    if (windowMinutes <= LONGEST_RAW_WINDOW || t - from <= 0) return events;
    return (events / (t - from)) * windowMinutes;
  }

  private guard(windowMinutes: number, t: number): Verdict {
    if (this.slo.minimumEvents === 0) return { value: true, robust: true };
    return compare(this.guardEvents(windowMinutes, t), '>=', this.slo.minimumEvents);
  }

  /** The alerts firing at minute t; throws when t is too close to a threshold to say. */
  expectedAt(t: number): ExpectedAlert[] {
    const { slo } = this;
    const base = { slo: slo.name, service: slo.service };
    const firing: ExpectedAlert[] = [];
    const decide = (verdict: Verdict, what: string): boolean => {
      if (!verdict.robust) {
        throw new Error(
          `scenario for ${slo.name} asks about minute ${t}, too close to the threshold of ${what}`,
        );
      }
      return verdict.value;
    };

    for (const pair of WORKBOOK_PAIRS) {
      const threshold = pair.burnRate * slo.budget;
      const verdict = all([
        compare(this.ratio(pair.long, t), '>', threshold),
        compare(this.ratio(pair.short, t), '>', threshold),
        this.guard(pair.long, t),
      ]);
      if (decide(verdict, `${pair.labels.long_window}/${pair.labels.short_window}`)) {
        firing.push({
          alertname: slo.burnAlertName,
          labels: { ...base, severity: pair.severity, ...pair.labels },
        });
      }
    }

    for (const condition of slo.conditions) {
      // `for:` means the condition held at every evaluation (one a minute) from t - for to t.
      const verdicts: Verdict[] = [];
      for (let minute = t - condition.forMinutes; minute <= t; minute++) {
        if (minute < 0) {
          verdicts.push({ value: false, robust: true });
          continue;
        }
        verdicts.push(
          all([
            compare(
              this.ratio(condition.windowMinutes, minute),
              condition.op,
              condition.threshold * slo.budget,
            ),
            this.guard(condition.windowMinutes, minute),
          ]),
        );
      }
      if (decide(all(verdicts), condition.alertName)) {
        firing.push({
          alertname: condition.alertName,
          labels: { ...base, severity: condition.severity, ...condition.labels },
        });
      }
    }

    if (!this.exported && t >= slo.absentForMinutes) {
      if (t - slo.absentForMinutes < 1)
        throw new Error(`minute ${t} is too close to the absent alert's for:`);
      firing.push({ alertname: slo.absentAlertName, labels: { ...base, severity: 'warning' } });
    }
    return firing;
  }
}
