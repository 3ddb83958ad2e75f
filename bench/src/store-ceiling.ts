// The store's ceiling: message documents per second FerretDB takes when it has the machine to
// itself (the service's own documents and indexes, inserted in batches by two writers as two
// instances would; no allocation, outbox, Redis or sockets). No system that stores every message
// can pass it, so it bounds the message system's capacity on this machine.
import { randomUUID } from 'node:crypto';
import { createLogger } from '@chatcluster/kit';
import { newMessageDoc, openMessageDatabase } from '@chatcluster/message';

export interface StoreCeiling {
  docsPerSec: number;
  batch: number;
  writers: number;
}

export async function measureStoreCeiling(
  mongoUrl: string,
  options: { seconds: number; batch: number; writers: number; channels: number },
): Promise<StoreCeiling> {
  const db = await openMessageDatabase(mongoUrl, createLogger({ service: 'bench', level: 'warn' }));
  try {
    // The driver's collection, as the store writes it (string `_id`s).
    const messages = db.models.messages.collection as unknown as {
      insertMany(docs: ReturnType<typeof newMessageDoc>[], options: { ordered: boolean }): Promise<unknown>;
    };
    const channels = Array.from({ length: options.channels }, () => randomUUID());
    const seqs = new Map(channels.map((c) => [c, 0]));
    const nextDoc = (n: number) => {
      const channelId = channels[n % channels.length]!;
      const seq = seqs.get(channelId)! + 1;
      seqs.set(channelId, seq);
      const item = {
        channelId,
        senderId: randomUUID(),
        clientMessageId: randomUUID(),
        body: `1:${n}:${Date.now()}`,
      };
      return newMessageDoc(item, seq, new Date());
    };
    let stored = 0;
    const started = Date.now();
    const end = started + options.seconds * 1000;
    await Promise.all(
      Array.from({ length: options.writers }, async () => {
        while (Date.now() < end) {
          const docs = Array.from({ length: options.batch }, () => nextDoc(stored++));
          await messages.insertMany(docs, { ordered: false });
        }
      }),
    );
    const docsPerSec = Math.round(stored / ((Date.now() - started) / 1000));
    return { docsPerSec, batch: options.batch, writers: options.writers };
  } finally {
    await db.close();
  }
}
