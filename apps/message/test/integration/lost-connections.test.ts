// The connections of a process killed outright are counted by the process that replaces it (same
// instance id, as a restarted container keeps its pod name): closes with reason `lost`, which the
// WebSocket-stability SLI counts as ended without a clean close. A graceful stop drains them and
// leaves nothing to count.
import { expect } from 'chai';
import { signup, type TestUser } from '../support/api.js';
import { RecordingClient } from '../support/clients.js';
import { startStack, type Stack } from '../support/stack.js';

async function closes(url: string, reason: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`chat_message_ws_connections_closed_total{reason="${reason}"} `));
  if (!line) throw new Error(`no closes with reason ${reason} exported`);
  return Number(line.split(' ').at(-1));
}

/** Longer than the count's write interval (2 s), so the last count includes every connection. */
const afterOneWrite = () => new Promise((resolve) => setTimeout(resolve, 2_500));

describe('message: connections lost with a killed process', function () {
  this.timeout(90_000);
  let stack: Stack;
  let users: TestUser[];
  const clients: RecordingClient[] = [];

  before(async () => {
    stack = await startStack({ instances: 1 });
    users = await Promise.all(['a', 'b', 'c'].map((n) => signup(stack.auth.url, n)));
  });
  after(async () => {
    for (const c of clients.splice(0)) c.close();
    await stack?.stop();
  });

  async function connectAll(url: string): Promise<void> {
    for (const c of clients.splice(0)) c.close();
    for (const user of users) clients.push(new RecordingClient([url], user.token));
    await Promise.all(clients.map((c) => c.open()));
  }

  it('every closed-reason series is exported from start, at 0', async () => {
    const url = stack.instances[0]!.url;
    for (const reason of ['error', 'heartbeat', 'lost', 'client', 'shutdown'])
      expect(await closes(url, reason), reason).to.equal(0);
  });

  it('SIGKILL: the next process of the instance counts its open connections as lost', async () => {
    const victim = stack.instances[0]!;
    await connectAll(victim.url);
    await afterOneWrite();
    victim.kill('SIGKILL');
    expect(await victim.exited).to.equal('SIGKILL');

    const next = await stack.startInstance('message-1');
    // The take-over is the process's first Redis write, right after start.
    const deadline = Date.now() + 5_000;
    while ((await closes(next.url, 'lost')) === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await closes(next.url, 'lost')).to.equal(users.length);
    stack.instances[0] = next;
  });

  it('SIGTERM: the drain closes them cleanly and the next process counts none lost', async () => {
    const current = stack.instances[0]!;
    await connectAll(current.url);
    await afterOneWrite();
    current.kill('SIGTERM');
    expect(await current.exited).to.equal(0);

    const next = await stack.startInstance('message-1');
    await afterOneWrite();
    expect(await closes(next.url, 'lost')).to.equal(0);
    stack.instances[0] = next;
  });
});
