// Sends are stored in batches: the sends of one turn of the event loop go together, and while one
// batch is being written the next collects (group commit across channels), so under load one seq
// script, one insert and one publish carry many messages, and a lone send waits for nothing.
import { msgErrors } from './errors.js';
import type { MessageMetrics } from './metrics.js';
import type { OutboxRelay } from './outbox/relay.js';
import type { StoreGuard } from './store/guard.js';
import type { CreateResult, MessageStore, NewMessage } from './store/message-store.js';

interface Waiting {
  item: NewMessage;
  resolve: (result: CreateResult) => void;
}

const maxBatch = 512;

/** A send being stored, by channel and clientMessageId: its resends wait for it instead of storing again. */
const inFlightKey = (item: NewMessage) => `${item.channelId}\u0000${item.clientMessageId}`;

export class SendService {
  #waiting: Waiting[] = [];
  readonly #inFlight = new Map<string, { item: NewMessage; result: Promise<CreateResult> }>();
  #busy = false;
  /** Answers the senders of the batch being stored with 503 now (the batch goes on). */
  #giveUpOnBatch: (() => void) | undefined;

  constructor(
    private readonly store: MessageStore,
    private readonly relay: OutboxRelay,
    private readonly metrics: MessageMetrics,
    /** The store's breaker: while it is open or half-open, sends are refused at once. */
    private readonly breaker?: StoreGuard['breaker'],
    /** Senders of a batch still unstored after this long are answered 503 (the batch goes on). */
    private readonly deadlineMs = 10_000,
  ) {
    // When the breaker opens, the batch being stored is stuck on the slow or dead store, and sends
    // queued behind it would only be refused later: answer them all now.
    breaker?.circuit.on('open', () => {
      this.#giveUpOnBatch?.();
      for (const w of this.#waiting.splice(0)) this.#answer(w, this.#refusal());
    });
  }

  #refusal(): CreateResult {
    return {
      ok: false,
      error: msgErrors.MSG_STORE_UNAVAILABLE('message store unavailable', {
        retryAfterSeconds: 1,
      }),
    };
  }

  #answer(w: Waiting, result: CreateResult): void {
    this.metrics.sends.inc({ outcome: result.ok ? (result.duplicate ? 'duplicate' : 'stored') : 'failed' });
    if (result.ok && !result.duplicate) this.relay.changed(result.doc);
    w.resolve(result);
  }

  send(item: NewMessage): Promise<CreateResult> {
    // Half-open, the store guard's own ping is the trial: a send would be refused by the breaker, or
    // wait for the trial's verdict (seconds, on a slow store).
    const state = this.breaker?.state;
    if (state === 'open' || state === 'halfOpen') {
      this.breaker?.rejected();
      return Promise.resolve(this.#refusal());
    }
    // A retry storm (clients resending what is still in flight, every second) adds no store work:
    // a resend shares the answer of the send it repeats.
    const key = inFlightKey(item);
    const running = this.#inFlight.get(key);
    if (running && running.item.senderId === item.senderId && running.item.body === item.body) {
      return running.result.then((r) => (r.ok && !r.duplicate ? { ...r, duplicate: true } : r));
    }
    const result = new Promise<CreateResult>((resolve) => {
      this.#waiting.push({ item, resolve });
      if (this.#busy) return;
      // After this turn's I/O callbacks: every send that arrived in it joins the batch.
      this.#busy = true;
      setImmediate(() => void this.#flush());
    });
    this.#inFlight.set(key, { item, result });
    void result.then(() => {
      if (this.#inFlight.get(key)?.result === result) this.#inFlight.delete(key);
    });
    return result;
  }

  async #flush(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, maxBatch);
      const storing = this.store
        .createMany(batch.map((w) => w.item))
        .catch((err: unknown) => batch.map((): CreateResult => ({ ok: false, error: err as Error })));
      const givenUp = new Promise<null>((resolve) => (this.#giveUpOnBatch = () => resolve(null)));
      const timer = setTimeout(() => this.#giveUpOnBatch?.(), this.deadlineMs);
      const results = await Promise.race([storing, givenUp]);
      this.#giveUpOnBatch = undefined;
      clearTimeout(timer);
      if (results) {
        batch.forEach((w, i) => this.#answer(w, results[i]!));
        continue;
      }
      // The breaker opened, or the batch outlived its deadline (it can chain many slow calls: retries,
      // seals): its senders get a 503 now, and what it stores later is still published (a retry
      // with the same clientMessageId gets that message).
      for (const w of batch) this.#answer(w, this.#refusal());
      void storing.then((late) =>
        late.forEach((result) => {
          if (result.ok && !result.duplicate) this.relay.changed(result.doc);
        }),
      );
    }
    this.#busy = false;
  }
}
