// One callback per response, whether it finished or the connection dropped first.
import type { ServerResponse } from 'node:http';

/** Status recorded for a response whose connection closed before it was sent (nginx's convention). */
export const connectionClosedStatus = 499;

export function onResponseDone(res: ServerResponse, callback: (status: number) => void): void {
  // 'close' follows 'finish' on a completed response and comes alone on an aborted one.
  res.once('close', () => callback(res.writableFinished ? res.statusCode : connectionClosedStatus));
}
