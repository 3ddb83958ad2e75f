// Senders that keep sending through the SDK while something breaks, and the exactly-once check.
import { expect } from 'chai';
import type { SendAckFrame } from '@chatcluster/message-sdk';
import type { RecordingClient } from './clients.js';

/** Sends `count` messages, `concurrency` at a time, `gapMs` apart; resolves with every ack. */
export async function sendMany(
  sender: RecordingClient,
  channelId: string,
  count: number,
  options: { prefix: string; gapMs?: number; concurrency?: number },
): Promise<SendAckFrame[]> {
  const acks: SendAckFrame[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      acks.push(await sender.client.send(channelId, `${options.prefix} ${i}`, `${options.prefix}-${i}`));
      if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 3 }, worker));
  return acks;
}

/** Every acknowledged message reached `client` exactly once, in increasing seq order. */
export function expectExactlyOnceInOrder(
  client: RecordingClient,
  channelId: string,
  acks: SendAckFrame[],
): void {
  const got = client.received(channelId);
  const seqs = got.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).to.be.greaterThan(seqs[i - 1]!);
  const ids = got.map((e) => e.message.clientMessageId);
  expect(new Set(ids).size, 'no duplicates').to.equal(ids.length);
  expect([...ids].sort()).to.deep.equal(acks.map((a) => a.clientMessageId).sort());
  const bySeq = new Map(got.map((e) => [e.message.clientMessageId, e.seq]));
  for (const a of acks) expect(bySeq.get(a.clientMessageId)).to.equal(a.seq);
}
