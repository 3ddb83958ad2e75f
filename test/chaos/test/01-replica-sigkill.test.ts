// Failure matrix 1: a message replica's container killed (SIGKILL through the runtime, as the OOM killer
// or a crash would) at peak load. Its members lose their connection without notice, reconnect through
// the Service to the other replica and resume; the kubelet restarts the container in the same pod.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { busiestMessageReplica, ChatLoad, expectNothingLost, freshChannel, report } from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

describe('chaos 1: a message replica SIGKILLed at peak load', function () {
  this.timeout(240_000);

  const chaos = useChaosPlatform();

  it('loses and duplicates no acknowledged message, and the replica comes back', async () => {
    const platform = chaos();
    const members = platform.users.slice(0, 6);
    const channelId = await freshChannel(platform, members);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    await load.progress(40);

    // At peak: the replica serving the most members.
    const { replica: victim, members: victimMembers } = await busiestMessageReplica(platform, load);
    const victimName = victim.name;
    expect(victim.containerId, 'the victim runs').to.be.a('string');
    await platform.killContainer(victim, 'SIGKILL');
    load.mark('faultStart');
    load.mark('faultEnd');

    const back = await eventually(
      'the killed container restarted by the kubelet and ready',
      async () =>
        (await platform.replicas('message')).find(
          (r) => r.name === victimName && r.restarts > victim.restarts && r.ready,
        ),
      90_000,
      500,
    );
    await load.progress(40, 60_000);
    await load.run(5_000);
    const figures = await load.stop();
    report('1-message-replica-sigkill', figures, {
      victim: victimName,
      victimMembers,
      victimRestarts: back.restarts,
      victimLastRestartReason: back.lastRestartReason,
    });
    expectNothingLost(figures);
    expect(figures.reconnects, 'the victim members reconnected').to.be.at.least(victimMembers);
    expect(back.lastRestartReason, 'the kubelet saw the container killed').to.equal('Error');
    expect(figures.timeToRecoverMs).to.be.a('number');
  });
});
