import { expect } from 'chai';
import { alertmanagerConfig, DEFAULT_CHAT_WEBHOOK, DEFAULT_PAGER_WEBHOOK } from '../../src/index.js';

describe('alertmanagerConfig', () => {
  it('pages on critical, chats on warning, groups per SLO', () => {
    const config = alertmanagerConfig();
    expect(config.route.receiver).to.equal('chat');
    expect(config.route.group_by).to.deep.equal(['slo']);
    expect(config.route.routes.map((r) => [r.matchers, r.receiver])).to.deep.equal([
      [['severity="critical"'], 'pager'],
      [['severity="warning"'], 'chat'],
    ]);
    expect(config.receivers).to.deep.equal([
      { name: 'pager', webhook_configs: [{ url: DEFAULT_PAGER_WEBHOOK, send_resolved: true }] },
      { name: 'chat', webhook_configs: [{ url: DEFAULT_CHAT_WEBHOOK, send_resolved: true }] },
    ]);
  });

  it('inhibits warnings while the same SLO pages, and only alerts that carry the SLO label', () => {
    expect(alertmanagerConfig().inhibit_rules).to.deep.equal([
      {
        source_matchers: ['severity="critical"', 'slo=~".+"'],
        target_matchers: ['severity="warning"'],
        equal: ['slo'],
      },
    ]);
    const perCluster = alertmanagerConfig({ sloLabels: ['slo', 'chatcluster'] });
    expect(perCluster.route.group_by).to.deep.equal(['slo', 'chatcluster']);
    expect(perCluster.inhibit_rules[0]!.equal).to.deep.equal(['slo', 'chatcluster']);
    expect(perCluster.inhibit_rules[0]!.source_matchers).to.include('chatcluster=~".+"');
  });

  it('uses the given receivers and timings', () => {
    const pager = { name: 'oncall', pagerduty_configs: [{ routing_key: 'k' }] };
    const chat = { name: 'slack', slack_configs: [{ api_url: 'https://hooks.example', channel: '#chat' }] };
    const config = alertmanagerConfig({
      pager,
      chat,
      groupWait: '1s',
      groupInterval: '2s',
      pageRepeatInterval: '3m',
      ticketRepeatInterval: '4h',
    });
    expect(config.receivers).to.deep.equal([pager, chat]);
    expect(config.route).to.include({
      receiver: 'slack',
      group_wait: '1s',
      group_interval: '2s',
      repeat_interval: '4h',
    });
    expect(config.route.routes.map((r) => [r.receiver, r.repeat_interval])).to.deep.equal([
      ['oncall', '3m'],
      ['slack', '4h'],
    ]);
    expect(() => alertmanagerConfig({ pager: { name: 'x' }, chat: { name: 'x' } })).to.throw(
      /different names/,
    );
  });
});
