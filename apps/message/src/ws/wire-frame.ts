// A complete WebSocket text frame (RFC 6455 §5.2: FIN, opcode 1, unmasked as a server's frames are,
// with its length), built once and written as it is to every socket that gets the same event:
// `ws` would build a header and make a write of two buffers for each recipient.
// Written beside `ws`'s own frames on the same socket: that keeps frames whole and in order because
// the server sends without compression (`perMessageDeflate: false`), so `ws` never queues a frame.
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}
