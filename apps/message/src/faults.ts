// Fault injection for release tests and game days: a version of the service whose configuration sets
// these refuses a share of sends with a 5xx, or publishes stored messages late. The canary journeys
// build such a version (an image whose environment turns a fault on), so a bad release is bad through
// configuration of that version alone; the operator never sets these, and with the defaults (0) the
// wrappers are not installed at all.
import { msgErrors } from './errors.js';
import type { CreateResult, NewMessage } from './store/message-store.js';

interface Sends {
  send(item: NewMessage): Promise<CreateResult>;
}

/** `sends` refusing `percent` % of calls, chosen by `random` (0 <= x < 1). Nothing refused is stored. */
export function withSendErrors<S extends Sends>(sends: S, percent: number, random = Math.random): S {
  if (percent <= 0) return sends;
  const send = (item: NewMessage): Promise<CreateResult> =>
    random() * 100 < percent
      ? Promise.resolve({
          ok: false,
          error: msgErrors.MSG_FAULT_INJECTED('send refused by an injected fault', { retryAfterSeconds: 1 }),
        })
      : sends.send(item);
  return new Proxy(sends, {
    get: (target, property, receiver) =>
      property === 'send' ? send : (Reflect.get(target, property, receiver) as unknown),
  });
}

/**
 * `target` whose `method` (a publish: no answer awaited) runs `delayMs` later; its caller goes on at
 * once, so a sender's ack is not held. A delayed publish lost in a crash is the relay's to republish,
 * as any publish is.
 */
export function withDelayedCall<T extends object>(target: T, method: keyof T & string, delayMs: number): T {
  if (delayMs <= 0) return target;
  const original = target[method];
  if (typeof original !== 'function') throw new TypeError(`${method} is not a method`);
  const delayed = (...args: unknown[]): void => {
    setTimeout(() => (original as (...a: unknown[]) => unknown).apply(target, args), delayMs).unref();
  };
  return new Proxy(target, {
    get: (object, property, receiver) =>
      property === method ? delayed : (Reflect.get(object, property, receiver) as unknown),
  });
}
