// Failure matrix 2: a rolling restart under load: SIGTERM to each message replica in turn, the next
// one only once the previous is back and ready. Each drains as on a pod deletion (readiness fails,
// members get a `reconnect` notice and a 1012 close, the outbox is flushed) and the runner starts it
// again as the kubelet restarts a container.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { ChatLoad, expectNothingLost, freshChannel, report } from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

describe('chaos 2: a rolling restart (SIGTERM to each message replica in turn) under load', function () {
  this.timeout(300_000);

  const chaos = useChaosPlatform();

  it('loses and duplicates no acknowledged message while every replica restarts', async () => {
    const platform = chaos();
    const members = platform.users.slice(0, 6);
    const channelId = await freshChannel(platform, members);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    await load.progress(30);

    const replicas = platform.replicas('message');
    expect(replicas).to.have.length(2);
    const restarts: { replica: string; downForMs: number }[] = [];
    load.mark('faultStart');
    for (const replica of replicas) {
      const before = replica.restarts;
      const signalledAt = Date.now();
      process.kill(replica.pid!, 'SIGTERM');
      await eventually(
        `${replica.name} restarted and ready`,
        () =>
          platform
            .replicas('message')
            .some((r) => r.name === replica.name && r.restarts > before && r.ready) &&
          platform.runner.serviceEndpoints('default', 'chat-message').length === 2,
        90_000,
      );
      restarts.push({ replica: replica.name, downForMs: Date.now() - signalledAt });
      await load.progress(10, 60_000);
    }
    load.mark('faultEnd');
    await load.progress(30, 60_000);
    const figures = await load.stop();
    report('2-rolling-restart-sigterm', figures, { restarts });
    expectNothingLost(figures);
    // Members of a draining instance were told to reconnect; none was left without a connection.
    expect(figures.reconnectNotices, 'reconnect notices').to.be.at.least(1);
    expect(figures.timeToRecoverMs).to.be.a('number');
  });
});
