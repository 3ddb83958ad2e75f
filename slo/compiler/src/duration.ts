// Prometheus durations ("5m", "1h30m", "30d"): parsed to seconds so windows can be compared and
// multiplied, and printed back in Prometheus' own canonical form.

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds in a Prometheus duration, or undefined when the text is not one (or is empty/zero-length). */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  const units = ['y', 'w', 'd', 'h', 'm', 's'];
  let seconds = 0;
  units.forEach((unit, index) => {
    const value = match[index + 1];
    if (value !== undefined) seconds += Number(value) * UNIT_SECONDS[unit]!;
  });
  return seconds;
}

/** The shortest Prometheus duration for whole seconds, largest units first: 5400 -> "1h30m". */
export function formatDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`not a whole number of seconds: ${seconds}`);
  if (seconds === 0) return '0s';
  // Days, not weeks or years, so windows read as the SRE workbook writes them ("30d", not "4w2d").
  const units: [string, number][] = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  let rest = seconds;
  let text = '';
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return text;
}
