// The publishing half of the delivery SLI: every stored message is observed once in
// chat_message_publish_latency_seconds when the relay first publishes it, against
// chat_message_sends_total{outcome="stored"}. A resend answered from the first is no new message.
import { expect } from 'chai';
import { channelWith, eventually, signup } from '../support/api.js';
import { RecordingClient } from '../support/clients.js';
import { startStack, type Stack } from '../support/stack.js';

async function sample(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  if (!found) throw new Error(`${line} not exported`);
  return Number(found.split(' ').at(-1));
}

describe('message: publish latency of new messages', function () {
  this.timeout(90_000);
  let stack: Stack;
  let client: RecordingClient | undefined;

  before(async () => {
    stack = await startStack({ instances: 1 });
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  it('observes each stored message once, on time, and a resend not again', async () => {
    const url = stack.instances[0]!.url;
    expect(await sample(url, 'chat_message_publish_latency_seconds_count')).to.equal(0);
    expect(await sample(url, 'chat_message_sends_total{outcome="stored"}')).to.equal(0);
    const [sender, reader] = await Promise.all([signup(stack.auth.url, 'p1'), signup(stack.auth.url, 'p2')]);
    const channel = await channelWith(stack.auth.url, sender, [reader]);
    client = new RecordingClient([url], sender.token);
    await client.open();
    for (let i = 0; i < 5; i++) await client.client.send(channel, `hello ${i}`, `m-${i}`);
    const resend = await client.client.send(channel, 'hello 0', 'm-0');
    expect(resend.duplicate).to.equal(true);

    expect(
      await eventually(
        () => sample(url, 'chat_message_publish_latency_seconds_count'),
        (n) => n === 5,
      ),
    ).to.equal(5);
    expect(await sample(url, 'chat_message_sends_total{outcome="stored"}')).to.equal(5);
    expect(await sample(url, 'chat_message_publish_latency_seconds_bucket{le="0.5"}')).to.equal(5);
  });
});
