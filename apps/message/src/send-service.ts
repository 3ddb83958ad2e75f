// Sends are stored in batches: while one batch is being written the next collects (group commit
// across channels), so under load one counter update and one insert carry many messages, and a
// lone send waits for nothing.
import type { MessageMetrics } from './metrics.js';
import type { OutboxRelay } from './outbox/relay.js';
import type { CreateResult, MessageStore, NewMessage } from './store/message-store.js';

interface Waiting {
  item: NewMessage;
  resolve: (result: CreateResult) => void;
}

const maxBatch = 512;

export class SendService {
  #waiting: Waiting[] = [];
  #busy = false;

  constructor(
    private readonly store: MessageStore,
    private readonly relay: OutboxRelay,
    private readonly metrics: MessageMetrics,
  ) {}

  send(item: NewMessage): Promise<CreateResult> {
    return new Promise((resolve) => {
      this.#waiting.push({ item, resolve });
      if (!this.#busy) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#busy = true;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, maxBatch);
      let results: CreateResult[];
      try {
        results = await this.store.createMany(batch.map((w) => w.item));
      } catch (err) {
        results = batch.map(() => ({ ok: false, error: err as Error }));
      }
      batch.forEach((w, i) => {
        const result = results[i]!;
        this.metrics.sends.inc({
          outcome: result.ok ? (result.duplicate ? 'duplicate' : 'stored') : 'failed',
        });
        if (result.ok && !result.duplicate) this.relay.changed(result.doc);
        w.resolve(result);
      });
    }
    this.#busy = false;
  }
}
