import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { contractCovers, parseMetricContract, promqlMetricNames } from '../../src/contract.js';
import { ARCHITECTURE_DOC } from '../support/repo.js';

describe('promqlMetricNames', () => {
  it('finds the metrics, not functions, keywords, labels, strings or durations', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(chat_auth_http_request_duration_seconds_bucket{code=~"5..", route!="x"}[$__rate_interval])))',
      ),
    ).to.deep.equal(['chat_auth_http_request_duration_seconds_bucket']);
    expect(
      promqlMetricNames(
        'sum(rate(a_total[5m] offset 1h)) / on(slo) group_left(service) b:recorded:ratio{slo="$slo"} > bool 1e-3 or vector(0) and c_gauge',
      ),
    ).to.deep.equal(['a_total', 'b:recorded:ratio', 'c_gauge']);
    expect(
      promqlMetricNames('max without (instance) (up) unless on() absent(d_total{x="sum(rate(e))"})'),
    ).to.deep.equal(['d_total', 'up']);
  });
});

describe('the metric contract of docs/architecture.md', () => {
  const contract = parseMetricContract(readFileSync(ARCHITECTURE_DOC, 'utf8'));

  it('expands <prefix> for every service and reads the planned service metrics', () => {
    for (const prefix of ['chat_auth', 'chat_message', 'chat_notification', 'chat_operator']) {
      expect(contract.names).to.include(`${prefix}_http_requests_total`);
      expect(contract.names).to.include(`${prefix}_circuit_breaker_state`);
      expect(contract.histograms).to.include(`${prefix}_http_request_duration_seconds`);
    }
    expect(contract.names).to.include('chat_message_ws_connections_closed_total');
    expect(contract.names).to.include('chat_notification_stream_oldest_pending_seconds');
    expect(contract.histograms).to.include('chat_message_delivery_latency_seconds');
    expect(contract.names).not.to.include('chat_auth');
  });

  it("covers a histogram's _bucket, _count and _sum, and nothing it does not list", () => {
    expect(contractCovers(contract, 'chat_message_delivery_latency_seconds_bucket')).to.equal(true);
    expect(contractCovers(contract, 'chat_message_delivery_latency_seconds_count')).to.equal(true);
    expect(contractCovers(contract, 'chat_message_ws_connections_opened_total_count')).to.equal(false);
    expect(contractCovers(contract, 'chat_message_delivery_latency_total')).to.equal(false);
  });

  it('rejects a document without the section', () => {
    expect(() => parseMetricContract('# nothing here')).to.throw(/no "### Metric names" section/);
  });
});
