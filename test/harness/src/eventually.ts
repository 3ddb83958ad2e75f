// Polls until a check passes (returns a value other than undefined/false) or the deadline passes,
// then fails with the last reason, so a slow start reads as what was missing, not a bare timeout.
import { setTimeout as delay } from 'node:timers/promises';

export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
      last = result;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : String(last)}`,
      );
    }
    await delay(intervalMs);
  }
}
