// Failure matrix 4: the MongoDB-wire server (FerretDB) unavailable for 30 s while members send, two of
// them through the REST API, and members read history. Nothing is acknowledged that was not stored:
// sends are refused with MSG_STORE_UNAVAILABLE (retryable) and repeated with the same clientMessageId
// until the store is back, so each is stored once. Alert-driven: the REST sends answered 503 burn
// the message API's availability budget, so the fast-burn page (MessageApiAvailabilityErrorBudgetBurn,
// critical, 1h/5m windows) reaches Alertmanager, and resolves once traffic succeeds again (the slower
// 6h/30m page, if it fires, is reported: its 30 min window keeps it firing longer).
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { AlertWatch, ChatLoad, expectNothingLost, freshChannel, outageMs, report } from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

describe('chaos 4: the MongoDB-wire server unavailable for 30 s during sends; the page fires and resolves', function () {
  this.timeout(900_000);

  const chaos = useChaosPlatform((p) => p.toxiproxy.enableProxy('mongodb'));

  it('acknowledges only what it stored, and stores every send once after the store returns', async () => {
    const platform = chaos();
    const members = platform.users.slice(0, 6);
    const channelId = await freshChannel(platform, members);
    const page = {
      alertname: 'MessageApiAvailabilityErrorBudgetBurn',
      severity: 'critical',
      long_window: '1h',
    };
    const alerts = new AlertWatch(platform.platform.parts.alertmanager.url);
    await eventually(
      'no message API page held before the fault',
      () => alerts.now(page).length === 0,
      300_000,
    );
    const load = await ChatLoad.start({
      messageUrl: platform.messageUrl,
      channelId,
      members,
      http: { senders: 2, readsPerSecond: 15 },
    });
    const errors: string[] = [];
    for (const user of load.users) user.client.on('error', (frame) => errors.push(frame.code));
    await load.progress(30);

    const outage = outageMs();
    await platform.toxiproxy.disableProxy('mongodb');
    const faultStart = Date.now();
    load.mark('faultStart', faultStart);
    await load.run(outage);
    await platform.toxiproxy.enableProxy('mongodb');
    const faultEnd = Date.now();
    load.mark('faultEnd', faultEnd);
    await load.progress(30, 120_000);
    // Prometheus scrapes and evaluates every 15 s: the page may arrive after the store is back.
    const fired = await eventually(
      'the page in Alertmanager',
      () => alerts.seen(page)[0],
      180_000,
      1_000,
    ).catch(() => undefined);
    const resolved = fired
      ? await eventually(
          'the page resolved',
          () => alerts.now(page).length === 0 && Date.now(),
          600_000,
          1_000,
        ).catch(() => undefined)
      : undefined;
    await alerts.stop();
    const figures = await load.stop(120_000);
    const refusals = countBy(errors);
    report('4-mongodb-unavailable', figures, {
      outageSeconds: outage / 1000,
      refusals,
      alert: {
        labels: page,
        firedMsAfterFaultStart: fired ? fired.firstSeenAt - faultStart : null,
        resolvedMsAfterFaultEnd: resolved ? resolved - faultEnd : null,
      },
      alertsSeen: alerts.seen({ slo: 'message-api-availability' }).map((a) => ({
        severity: a.labels['severity'],
        windows: `${a.labels['long_window']}/${a.labels['short_window']}`,
        firstSeenMsAfterFaultStart: a.firstSeenAt - faultStart,
        lastSeenMsAfterFaultEnd: a.lastSeenAt - faultEnd,
      })),
    });
    expectNothingLost(figures);
    expect(refusals['MSG_STORE_UNAVAILABLE'] ?? 0, 'sends refused as store-unavailable').to.be.greaterThan(0);
    expect(figures.http!.sends['503'] ?? 0, 'REST sends answered 503').to.be.greaterThan(0);
    expect(figures.timeToRecoverMs).to.be.a('number');
    expect(fired, 'the page reached Alertmanager').to.not.equal(undefined);
    expect(fired!.labels['slo']).to.equal('message-api-availability');
    expect(resolved, 'the page resolved after recovery').to.be.a('number');
  });
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
