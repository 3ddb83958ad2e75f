// The shared WebSocket frame is byte for byte the frame `ws` itself would send for the payload, at
// each of the three length encodings, and a `ws` client reads it as the text it carries.
import { expect } from 'chai';
import type { EventEmitter } from 'node:events';
import * as wsModule from 'ws';
import { textFrame } from '../../src/ws/wire-frame.js';

// ws exports its framing classes at run time; @types/ws does not declare them.
const { Receiver, Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
  Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): void };
};

const wsFrame = (payload: Buffer) =>
  Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }));

describe('message: shared WebSocket frames', () => {
  for (const length of [0, 5, 125, 126, 200, 65_535, 65_536, 70_000]) {
    it(`matches ws's own text frame for a ${length}-byte payload`, () => {
      const payload = Buffer.alloc(length, 'a');
      expect(textFrame(payload).equals(wsFrame(payload))).to.equal(true);
    });
  }

  it('is read back by a client as the text it carries', async () => {
    const text = JSON.stringify({ type: 'event', event: { body: 'é'.repeat(100) } });
    const receiver = new Receiver({ isServer: false });
    const got = new Promise<string>((resolve) =>
      receiver.on('message', (data: Buffer, isBinary: boolean) => {
        expect(isBinary).to.equal(false);
        resolve(data.toString());
      }),
    );
    receiver.write(textFrame(Buffer.from(text)));
    expect(await got).to.equal(text);
  });
});
