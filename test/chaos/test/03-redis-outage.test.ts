// Failure matrix 3: Redis unavailable for 30 s (its proxy disabled: connections cut, new ones
// refused) while members chat across both replicas, then back. Messages are stored and acknowledged
// throughout; members on other instances get them when Redis returns (catch-up), none twice.
import { expect } from 'chai';
import { ChatLoad, expectNothingLost, freshChannel, outageMs, report } from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

describe('chaos 3: Redis unavailable for 30 s during Pub/Sub, then back', function () {
  this.timeout(300_000);

  const chaos = useChaosPlatform((p) => p.toxiproxy.enableProxy('redis'));

  it('keeps acknowledging, and every acknowledged message reaches every member once after Redis returns', async () => {
    const platform = chaos();
    const members = platform.users.slice(0, 6);
    const channelId = await freshChannel(platform, members);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    await load.progress(30);
    expect(Object.keys(instancesNow(load)), 'members on both replicas').to.have.length(2);

    const outage = outageMs();
    await platform.toxiproxy.disableProxy('redis');
    load.mark('faultStart');
    await load.run(outage);
    await platform.toxiproxy.enableProxy('redis');
    load.mark('faultEnd');
    await load.progress(30, 120_000);
    await load.run(5_000);
    const figures = await load.stop(120_000);
    report('3-redis-unavailable', figures, { outageSeconds: outage / 1000 });
    expectNothingLost(figures);
    expect(figures.acknowledgedDuringFault, 'sends acknowledged while Redis was down').to.be.greaterThan(0);
    expect(figures.timeToRecoverMs).to.be.a('number');
  });
});

function instancesNow(load: ChatLoad): Record<string, number> {
  const now: Record<string, number> = {};
  for (const user of load.users) now[user.client.instanceId!] = (now[user.client.instanceId!] ?? 0) + 1;
  return now;
}
