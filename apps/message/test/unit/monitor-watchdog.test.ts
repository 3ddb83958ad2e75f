// The MongoDB monitor watchdog against a stand-in driver client (the driver's race that hangs a
// heartbeat cannot be produced on demand; the degradation suite shows the whole recovery).
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { watchMonitor, type Watchdog } from '../../src/store/monitor-watchdog.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('message: MongoDB monitor watchdog', () => {
  let clock = 0;
  let client: EventEmitter;
  let reopens: number;
  let failNext: number;
  let dog: Watchdog | undefined;
  const stuck: number[] = [];

  const start = (opened = true) =>
    (dog = watchMonitor({
      client: () => client,
      opened,
      reopen: async () => {
        await Promise.resolve();
        reopens++;
        if (failNext > 0) {
          failNext--;
          throw new Error('ECONNREFUSED');
        }
        client = new EventEmitter();
      },
      stuckAfterMs: 7_000,
      onStuck: (ms) => stuck.push(ms),
      checkEveryMs: 5,
      now: () => clock,
    }));

  beforeEach(() => {
    clock = 0;
    client = new EventEmitter();
    reopens = 0;
    failNext = 0;
    stuck.length = 0;
  });
  afterEach(() => dog?.stop());

  it('leaves settled heartbeats alone, however long the connection lives', async () => {
    start();
    for (let i = 0; i < 10; i++) {
      client.emit('serverHeartbeatStarted');
      clock += 2_000;
      client.emit(i % 2 ? 'serverHeartbeatFailed' : 'serverHeartbeatSucceeded');
      await sleep(10);
    }
    expect(reopens).to.equal(0);
  });

  it('reopens once when a heartbeat outlives the limit, then watches the new client', async () => {
    start();
    const first = client;
    client.emit('serverHeartbeatStarted');
    clock += 6_999;
    await sleep(20);
    expect(reopens, 'not stuck yet').to.equal(0);
    clock += 1;
    await sleep(20);
    expect(reopens).to.equal(1);
    expect(stuck).to.deep.equal([7_000]);
    expect(dog!.reopened).to.equal(1);
    expect(client).to.not.equal(first);
    // The old client's late events no longer count; the new one's do.
    first.emit('serverHeartbeatStarted');
    clock += 60_000;
    await sleep(20);
    expect(reopens).to.equal(1);
    client.emit('serverHeartbeatStarted');
    clock += 7_000;
    await sleep(20);
    expect(reopens).to.equal(2);
  });

  it('keeps opening a connection whose open failed until one succeeds, then stops', async () => {
    failNext = 3;
    start(false);
    await sleep(80);
    expect(reopens).to.equal(4);
    expect(dog!.reopened).to.equal(1);
  });
});
