// The committed definitions: objectives as the reliability reviews set them, metric names from the
// contract in docs/architecture.md (a renamed metric there or here fails this test).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { contractCovers, parseMetricContract } from '../../src/contract.js';
import { ARCHITECTURE_DOC, repoSlos } from '../support/repo.js';

describe('the committed SLO definitions', () => {
  const slos = repoSlos();

  it('hold the objectives the reliability reviews ask for, over 30 days', () => {
    const objectives = Object.fromEntries(slos.map((slo) => [slo.name, [slo.objective, slo.period]]));
    expect(objectives).to.deep.equal({
      'auth-availability': [0.995, '30d'],
      'message-api-availability': [0.995, '30d'],
      'message-delivery': [0.999, '30d'],
      'notification-success': [0.95, '30d'],
      'websocket-stability': [0.999, '30d'],
    });
  });

  it('alert on notification success below 95 % over 5 minutes', () => {
    const notification = slos.find((slo) => slo.name === 'notification-success')!;
    expect(notification.conditions.map((c) => [c.op, c.threshold, c.lookbackWindow])).to.deep.equal([
      ['>', 1, '5m'],
    ]);
  });

  it('measure message delivery against the 500 ms bucket, publishing (stored messages) and delivering', () => {
    const delivery = slos.find((slo) => slo.name === 'message-delivery')!;
    const le = [{ name: 'le', op: '=', value: '0.5' }];
    expect(delivery.sli.good).to.deep.equal([
      { metric: 'chat_message_delivery_latency_seconds_bucket', matchers: le },
      { metric: 'chat_message_publish_latency_seconds_bucket', matchers: le },
    ]);
    expect(delivery.sli.total).to.deep.equal([
      { metric: 'chat_message_delivery_latency_seconds_count', matchers: [] },
      { metric: 'chat_message_sends_total', matchers: [{ name: 'outcome', op: '=', value: 'stored' }] },
    ]);
  });

  it('read only metrics that docs/architecture.md promises', () => {
    const contract = parseMetricContract(readFileSync(ARCHITECTURE_DOC, 'utf8'));
    const used = slos.flatMap((slo) =>
      [...slo.sli.total, ...(slo.sli.good ?? []), ...(slo.sli.bad ?? [])].map((s) => s.metric),
    );
    expect(used.filter((name) => !contractCovers(contract, name))).to.deep.equal([]);
    expect(used).to.have.length.greaterThan(5);
  });
});
