// Failure matrix 10: the node drained of the message pods (`kubectl drain --pod-selector`), as before
// maintenance. The PodDisruptionBudget lets one pod go at a time: the first is evicted (it drains its
// members, who resume on the other), the second eviction is refused while the first has no
// replacement (the node is cordoned, so none can start), so chat keeps one replica and loses nothing.
// Uncordoning lets the replacement start.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { ChatLoad, expectNothingLost, freshChannel, readyEndpoints, report } from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

describe('chaos 10: the node drained of message pods within their PodDisruptionBudget', function () {
  this.timeout(300_000);

  const chaos = useChaosPlatform();

  it('evicts one pod at a time, keeps chat up on the other, loses nothing', async () => {
    const platform = chaos();
    const members = platform.users.slice(0, 6);
    const channelId = await freshChannel(platform, members);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    await load.progress(30);

    const before = (await platform.replicas('message')).map((r) => r.name);
    const node = platform.cluster.nodeName;
    load.mark('faultStart');
    const drain = await platform.cluster.kubectl([
      'drain',
      node,
      '--pod-selector=app.kubernetes.io/name=message',
      '--delete-emptydir-data',
      '--ignore-daemonsets',
      '--timeout=45s',
    ]);
    const during = await platform.replicas('message');
    const servingDuringDrain = await readyEndpoints(platform, 'message');
    await load.progress(10, 60_000);
    const uncordon = await platform.cluster.kubectl(['uncordon', node]);
    expect(uncordon.code, uncordon.stderr).to.equal(0);
    await eventually(
      'two ready message pods behind the Service again',
      async () =>
        (await platform.replicas('message')).filter((r) => r.ready && !r.deleting).length === 2 &&
        (await readyEndpoints(platform, 'message')) === 2,
      120_000,
      500,
    );
    load.mark('faultEnd');
    await load.progress(20, 60_000);
    const figures = await load.stop();
    const output = drain.stdout + drain.stderr;
    report('10-node-drain', figures, {
      drainExit: drain.code,
      evicted: before.filter((name) => !during.some((r) => r.name === name && !r.deleting)),
      servingDuringDrain,
    });
    expect(drain.code, 'the drain could not finish: the budget kept the last pod').to.not.equal(0);
    expect(output).to.contain('disruption budget');
    expect(servingDuringDrain, 'one replica kept serving').to.equal(1);
    expectNothingLost(figures);
  });
});
