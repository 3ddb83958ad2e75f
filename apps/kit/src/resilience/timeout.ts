// Deadlines that really stop the work: the callback gets an AbortSignal that fires at the deadline
// (pass it to fetch, drivers, sleeps), and the caller gets TIMEOUT without waiting for the work.
import { AppError } from '../errors.js';

export interface TimeoutOptions {
  /** Names the work in the error message, e.g. `auth membership lookup`. */
  operation: string;
  /** Aborting this (e.g. the request's own signal) aborts the work too, with the parent's reason. */
  parentSignal?: AbortSignal;
}

export async function withTimeout<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  options: TimeoutOptions,
): Promise<T> {
  const { parentSignal } = options;
  parentSignal?.throwIfAborted();
  const controller = new AbortController();
  const abortFromParent = () => controller.abort(parentSignal?.reason);
  parentSignal?.addEventListener('abort', abortFromParent, { once: true });
  const timer = setTimeout(
    () => controller.abort(new AppError('TIMEOUT', `${options.operation} timed out after ${ms} ms`)),
    ms,
  );
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
      once: true,
    });
  });
  try {
    const running = work(controller.signal);
    // The work may still reject after we gave up on it; that rejection is expected, not unhandled.
    running.catch(() => undefined);
    return await Promise.race([running, aborted]);
  } finally {
    clearTimeout(timer);
    parentSignal?.removeEventListener('abort', abortFromParent);
  }
}
