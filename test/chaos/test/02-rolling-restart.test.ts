// Failure matrix 2: a rolling restart under load, as an SRE does it: the message Rollout's restartAt
// set to now (`kubectl argo rollouts restart`). Argo Rollouts evicts the pods one at a time within the
// PodDisruptionBudget; each drains on its SIGTERM (readiness fails, members get a `reconnect` notice and
// a 1012 close) and its ReplicaSet starts a replacement.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { ChatLoad, expectNothingLost, freshChannel, readyEndpoints, report } from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

describe('chaos 2: a rolling restart of the message Rollout under load', function () {
  this.timeout(420_000);

  const chaos = useChaosPlatform();

  it('loses and duplicates no acknowledged message while every replica is replaced', async () => {
    const platform = chaos();
    const members = platform.users.slice(0, 6);
    const channelId = await freshChannel(platform, members);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    await load.progress(30);

    const before = await platform.replicas('message');
    expect(before).to.have.length(2);
    const old = new Set(before.map((r) => r.name));
    load.mark('faultStart');
    const restartedAt = Date.now();
    await platform.kubectl([
      'patch',
      'rollout',
      'chat-message',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { restartAt: new Date().toISOString() } }),
    ]);
    const replaced = await eventually(
      'both message pods replaced, ready and behind the Service',
      async () => {
        const now = await platform.replicas('message');
        const fresh = now.filter((r) => !old.has(r.name) && r.ready && !r.deleting);
        return fresh.length === 2 && now.length === 2 && (await readyEndpoints(platform, 'message')) === 2
          ? fresh.map((r) => r.name)
          : undefined;
      },
      300_000,
      500,
    );
    const tookMs = Date.now() - restartedAt;
    load.mark('faultEnd');
    await load.progress(30, 60_000);
    const figures = await load.stop();
    report('2-rolling-restart', figures, { replaced: { from: [...old], to: replaced }, tookMs });
    expectNothingLost(figures);
    // Members of a draining pod were told to reconnect; none was left without a connection.
    expect(figures.reconnectNotices, 'reconnect notices').to.be.at.least(1);
    expect(figures.timeToRecoverMs).to.be.a('number');
  });
});
