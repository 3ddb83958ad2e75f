// The pure half of the metric-name drift check: reading a /metrics page and deciding what is missing.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { exportedNames, operatorObjects, unexported } from '../support/metric-names.js';
import { PRODUCTION_EXAMPLE } from '../support/repo.js';

const PAGE = `# HELP chat_message_http_requests_total HTTP requests answered.
# TYPE chat_message_http_requests_total counter
chat_message_http_requests_total{route="/api/v1/messages",method="POST",code="201"} 3
# HELP chat_message_delivery_latency_seconds Acceptance to send.
# TYPE chat_message_delivery_latency_seconds histogram
# HELP chat_message_rpc_seconds A summary.
# TYPE chat_message_rpc_seconds summary
# TYPE chat_message_ws_connections gauge
chat_message_ws_connections 0
process_cpu_seconds_total 1.5
`;

describe('exportedNames', () => {
  it('reads samples and # TYPE families, a histogram as its _bucket, _count and _sum', () => {
    expect([...exportedNames(PAGE)].sort()).to.deep.equal([
      'chat_message_delivery_latency_seconds_bucket',
      'chat_message_delivery_latency_seconds_count',
      'chat_message_delivery_latency_seconds_sum',
      'chat_message_http_requests_total',
      'chat_message_rpc_seconds',
      'chat_message_rpc_seconds_count',
      'chat_message_rpc_seconds_sum',
      'chat_message_ws_connections',
      'process_cpu_seconds_total',
    ]);
  });

  it('refuses a page that is not the text format', () => {
    expect(() => exportedNames('<html>not found</html>')).to.throw(
      /not a line of the Prometheus text format/,
    );
  });
});

describe('unexported', () => {
  it('keeps the uses no service exports, no rule records and Prometheus does not make', () => {
    const uses = [
      { where: 'a', name: 'chat_message_http_requests_total' },
      { where: 'b', name: 'slo:sli_errors:rate5m' },
      { where: 'c', name: 'ALERTS' },
      { where: 'd', name: 'chat_message_delivery_latency_seconds' },
      { where: 'e', name: 'slo:unknown:ratio' },
    ];
    expect(
      unexported(uses, exportedNames(PAGE), new Set(['slo:sli_errors:rate5m'])).map((u) => u.where),
    ).to.deep.equal(['d', 'e']);
  });
});

describe('operatorObjects', () => {
  it("reads the production example's AnalysisTemplate queries and PrometheusRule groups", () => {
    const { analysisQueries, ruleGroups } = operatorObjects(readFileSync(PRODUCTION_EXAMPLE, 'utf8'));
    expect(analysisQueries.some((q) => q.expr.includes('chat_message_http_requests_total'))).to.equal(true);
    expect(ruleGroups.map((g) => g.name)).to.include('slo-message-delivery');
  });
});
