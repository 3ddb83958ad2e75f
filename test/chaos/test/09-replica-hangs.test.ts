// Failure matrix 9: a message replica that hangs (its process stopped with SIGSTOP: the port stays open,
// nothing answers), which only the probes can see. Readiness takes it out of the Service, the liveness
// probe fails and the kubelet restarts the container; its members notice the silent connection (the
// SDK's dead-connection timeout), reconnect to the other replica and resume.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { busiestMessageReplica, ChatLoad, expectNothingLost, freshChannel, report } from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

describe('chaos 9: a message replica hangs: the liveness probe restarts it', function () {
  this.timeout(300_000);

  const chaos = useChaosPlatform();

  it('restarts the hung container, and its members resume with nothing lost', async () => {
    const platform = chaos();
    const members = platform.users.slice(0, 6);
    const channelId = await freshChannel(platform, members);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    await load.progress(30);

    const { replica: victim, members: victimMembers } = await busiestMessageReplica(platform, load);
    const victimName = victim.name;
    await platform.killContainer(victim, 'SIGSTOP');
    const stoppedAt = Date.now();
    load.mark('faultStart');

    await eventually(
      'the kubelet to restart the hung container after its liveness probe failed',
      async () =>
        (await platform.replicas('message')).find(
          (r) => r.name === victimName && r.restarts > victim.restarts && r.ready,
        ),
      180_000,
      500,
    );
    const restartedMs = Date.now() - stoppedAt;
    load.mark('faultEnd');
    const events = JSON.parse(
      await platform.kubectl([
        'get',
        'events',
        '--field-selector',
        `involvedObject.name=${victimName},reason=Unhealthy`,
        '-o',
        'json',
      ]),
    ) as { items: { message: string }[] };
    await load.progress(30, 90_000);
    const figures = await load.stop();
    report('9-message-replica-hangs', figures, {
      victim: victimName,
      victimMembers,
      restartedMsAfterStop: restartedMs,
      probeFailures: events.items.map((e) => e.message),
    });
    expect(events.items.map((e) => e.message).join('\n')).to.contain('Liveness probe failed');
    expectNothingLost(figures);
    expect(figures.reconnects, 'the victim members reconnected').to.be.at.least(victimMembers);
  });
});
