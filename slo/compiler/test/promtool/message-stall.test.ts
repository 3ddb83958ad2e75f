// Messages accepted but never published (the relay stalled, Redis away): no subscriber gets them, so
// no delivery is ever written and the delivery histogram alone saw nothing at all. The publishing leg
// of the message-delivery SLI counts each one as bad from its acceptance (promtool test rules on the
// committed rule file).
import { expect } from 'chai';
import { join } from 'node:path';
import { runScenario, type ValueCheck } from '../support/promtool-unit.js';
import { GENERATED_DIR } from '../support/repo.js';
import { counterValues, type InputSeries } from '../support/synthetic-series.js';

const RULE_FILE = join(GENERATED_DIR, 'rules', 'message-delivery.rules.yml');
const HEALTHY = 360;
const STALL = 30;
const MESSAGES = 1000; // stored per minute, all along
const DELIVERIES = 2000; // per minute while messages are published (two subscribers each)

/** Healthy, then published and delivered nothing while sends are still stored and acknowledged. */
function series(): InputSeries[] {
  const phases = [
    { minutes: HEALTHY, eventsPerMinute: 1, burn: 0 },
    { minutes: STALL, eventsPerMinute: 0, burn: 0 },
  ];
  const flowing = (perMinute: number) => counterValues(phases, (p) => p.eventsPerMinute * perMinute);
  const stored = counterValues([{ minutes: HEALTHY + STALL, eventsPerMinute: 1, burn: 0 }], () => MESSAGES);
  return [
    { series: 'chat_message_sends_total{outcome="stored"}', values: stored },
    { series: 'chat_message_publish_latency_seconds_bucket{le="0.5"}', values: flowing(MESSAGES) },
    { series: 'chat_message_publish_latency_seconds_count', values: flowing(MESSAGES) },
    { series: 'chat_message_delivery_latency_seconds_bucket{le="0.5"}', values: flowing(DELIVERIES) },
    { series: 'chat_message_delivery_latency_seconds_count', values: flowing(DELIVERIES) },
  ];
}

const own = { slo: 'message-delivery', service: 'message' };
const burnAlert = (longWindow: string, shortWindow: string, burnRate: string, severity: string) => ({
  alertname: 'MessageDeliveryErrorBudgetBurn',
  alertstate: 'firing',
  ...own,
  severity,
  long_window: longWindow,
  short_window: shortWindow,
  burn_rate: burnRate,
});
const firing = (labels: Record<string, string>) =>
  `ALERTS{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

describe('message delivery: a stalled relay (promtool test rules)', function () {
  this.timeout(60_000);

  it('pages on 1h/5m within 5 minutes of the stall, and not before it', () => {
    const page = burnAlert('1h', '5m', '14.4', 'critical');
    // Five minutes in: 5,000 of the hour's ~170,000 events failed (2.9 % > 1.44 %); over 6h, 0.5 % < 0.6 %.
    const at = HEALTHY + 5;
    const values: ValueCheck[] = [
      { minute: HEALTHY - 1, expr: firing(page), labels: page, expected: 'absent' },
      { minute: at, expr: firing(page), labels: page, expected: 1, tolerance: 0 },
      { minute: at, expr: firing(burnAlert('6h', '30m', '6', 'critical')), labels: {}, expected: 'absent' },
      // Nothing published, nothing delivered: every event of the last 5 minutes is a stuck message.
      {
        minute: at,
        expr: 'slo:sli_error:ratio_rate5m{slo="message-delivery"}',
        labels: own,
        expected: 1,
        tolerance: 0.02,
      },
    ];
    const result = runScenario(RULE_FILE, series(), [], values);
    expect(result.status, result.output).to.equal(0);
  });
});
