// How long the data-store outages of the failure matrix last: 30 s, as the matrix states. For local
// runs only, CHAOS_OUTAGE_SECONDS shortens them (e.g. CHAOS_OUTAGE_SECONDS=10 make test-chaos); under
// CI (CI set) the variable is refused, so CI always runs the stated durations.
export const STATED_OUTAGE_SECONDS = 30;

export function outageMs(): number {
  const raw = process.env.CHAOS_OUTAGE_SECONDS;
  if (raw === undefined || raw === '') return STATED_OUTAGE_SECONDS * 1000;
  if (process.env.CI) {
    throw new Error('CHAOS_OUTAGE_SECONDS is for local runs only: CI runs the stated 30 s outages');
  }
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > STATED_OUTAGE_SECONDS) {
    throw new Error(`CHAOS_OUTAGE_SECONDS must be between 1 and ${STATED_OUTAGE_SECONDS}, not ${raw}`);
  }
  return seconds * 1000;
}
