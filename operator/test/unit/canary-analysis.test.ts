// The canary's analysis templates: background (no count), measured on the canary's own pods, with the
// minimum-traffic guard (too few events is Inconclusive), and the metrics each component is judged on.
import { expect } from 'chai';
import { canaryHealthAnalysisTemplate, guardedConditions } from '../../src/specs/analysis.js';
import { sloAnalysisTemplates } from '../../src/specs/slo-objects.js';
import type { KubeObject } from '../../src/specs/meta.js';
import { sampleCluster } from '../support/sample-cluster.js';

interface Metric {
  name: string;
  interval: string;
  initialDelay?: string;
  count?: number;
  failureLimit: number;
  inconclusiveLimit?: number;
  successCondition: string;
  failureCondition: string;
  provider: { prometheus: { query: string; address: string } };
}
const metricsOf = (template: KubeObject) => (template.spec as { metrics: Metric[] }).metrics;
const CANARY = 'rollouts_pod_template_hash="{{args.canary-hash}}"';

/**
 * Argo's verdict on one measurement (utils/evaluate in Argo Rollouts 1.8): the failure condition wins,
 * then the success condition, and a result that matches neither is Inconclusive. Evaluates only the
 * clauses the builders write (joined by &&); an unknown clause fails the test instead of being guessed.
 */
function verdict(metric: Pick<Metric, 'successCondition' | 'failureCondition'>, result: number[]) {
  const holds = (condition: string) =>
    condition.split(' && ').every((clause) => {
      if (clause === 'len(result) == 1') return result.length === 1;
      if (clause === '!isNaN(result[0])') return !Number.isNaN(result[0]);
      const op = /^result\[0\] (<=|>|<|>=) ([0-9.]+)$/.exec(clause);
      if (!op) throw new Error(`unknown clause: ${clause}`);
      const [value, limit] = [result[0]!, Number(op[2])];
      return { '<=': value <= limit, '>': value > limit, '<': value < limit, '>=': value >= limit }[
        op[1] as '<=' | '>' | '<' | '>='
      ];
    });
  if (holds(metric.failureCondition)) return 'Failed';
  return holds(metric.successCondition) ? 'Successful' : 'Inconclusive';
}

describe('canary analysis', () => {
  it('judges a value only when present: too little traffic (no sample) or NaN is Inconclusive', () => {
    const metric = guardedConditions(0.05);
    expect(verdict(metric, [0])).to.equal('Successful');
    expect(verdict(metric, [0.05])).to.equal('Successful');
    expect(verdict(metric, [0.051])).to.equal('Failed');
    expect(verdict(metric, [Infinity])).to.equal('Failed');
    expect(verdict(metric, [])).to.equal('Inconclusive');
    expect(verdict(metric, [NaN])).to.equal('Inconclusive');
  });

  it('measures every interval for the whole canary (no count), the first one interval in', () => {
    const cluster = sampleCluster({
      rollout: { canary: { analysis: { intervalSeconds: 15, failureLimit: 2 } } },
    });
    const templates = [
      canaryHealthAnalysisTemplate(cluster, 'message'),
      ...sloAnalysisTemplates(cluster, 'message'),
    ];
    expect(templates).to.have.length(4);
    for (const metric of templates.flatMap(metricsOf)) {
      expect(metric, metric.name).to.not.have.property('count');
      expect(metric, metric.name).to.include({
        interval: '15s',
        initialDelay: '15s',
        failureLimit: 2,
        inconclusiveLimit: 0,
      });
    }
  });

  it('keeps every query to the canary pods of this namespace, and guards it with the minimum of events', () => {
    const cluster = sampleCluster({ rollout: { canary: { analysis: { minimumEvents: 40 } } } });
    for (const component of ['auth', 'message', 'notification'] as const) {
      const templates = [
        canaryHealthAnalysisTemplate(cluster, component),
        ...sloAnalysisTemplates(cluster, component),
      ];
      for (const metric of templates.flatMap(metricsOf)) {
        const { query } = metric.provider.prometheus;
        const selectors = query.replace(/\{\{args\.([a-z-]+)\}\}/g, 'ARG:$1').match(/\{[^}]*\}/g)!;
        expect(selectors.length, `${component} ${metric.name}`).to.be.greaterThan(1);
        for (const selector of selectors) {
          // Every series selector names the namespace and a pod template hash (the canary's, or the
          // stable one for the latency comparison).
          expect(selector, `${component} ${metric.name}`).to.match(/namespace="chat"/);
          expect(selector, `${component} ${metric.name}`).to.match(
            /rollouts_pod_template_hash="ARG:(canary|stable)-hash"/,
          );
        }
        expect(query, `${component} ${metric.name}`).to.match(/\nand on\(\) \(\(.*\) \* \d+ >= 40\)$/s);
        expect(metric.failureCondition, `${component} ${metric.name}`).to.be.a('string');
      }
    }
  });

  it('the default minimum is 100 events: one bad event in 100 fails no default gate', () => {
    const cluster = sampleCluster();
    expect(cluster.spec.rollout.canary.analysis.minimumEvents).to.equal(100);
    // The tightest default gate is the delivery SLO: 99.9 % at a burn rate of 14.4 fails above 1.44 %.
    const delivery = metricsOf(
      sloAnalysisTemplates(cluster, 'message').find((t) => t.metadata.name === 'prod-message-delivery-slo')!,
    )[0]!;
    expect(verdict(delivery, [0.01 / 0.001])).to.equal('Successful');
    const health = metricsOf(canaryHealthAnalysisTemplate(cluster, 'auth'))[0]!;
    expect(verdict(health, [1 / 100])).to.equal('Successful');
  });

  it('judges auth on its HTTP API: 5xx share and p95 against the stable pods', () => {
    const cluster = sampleCluster({
      rollout: { canary: { analysis: { maxErrorRatePercent: 2, maxLatencyP95Ratio: 1.5 } } },
    });
    const metrics = metricsOf(canaryHealthAnalysisTemplate(cluster, 'auth'));
    expect(metrics.map((m) => m.name)).to.deep.equal(['error-rate', 'p95-latency-vs-stable']);
    const [errorRate, latency] = metrics as [Metric, Metric];
    expect(errorRate).to.include(guardedConditions(0.02));
    expect(errorRate.provider.prometheus.query).to.include(
      `(sum(rate(chat_auth_http_requests_total{namespace="chat",${CANARY},code=~"5..",route!~"/health/.*|/metrics"}[2m])) or vector(0))`,
    );
    expect(latency).to.include(guardedConditions(1.5));
    expect(latency.provider.prometheus.query).to.include('{{args.stable-hash}}');
    expect(latency.provider.prometheus.address).to.equal('http://prometheus-operated.monitoring.svc:9090');
  });

  it('judges message on its WebSocket sends: refused with a 5xx, or acked slower than the delivery objective', () => {
    const cluster = sampleCluster({ slo: { messageDelivery: { latencyThresholdSeconds: 0.3 } } });
    const metrics = metricsOf(canaryHealthAnalysisTemplate(cluster, 'message'));
    expect(metrics.map((m) => m.name)).to.deep.equal(['ws-send-failures', 'error-rate']);
    const ws = metrics[0]!.provider.prometheus.query;
    expect(ws).to.include(`chat_message_ws_sends_total{namespace="chat",${CANARY},code=~"5.."}[2m]`);
    expect(ws).to.include(`chat_message_send_ack_latency_seconds_count{namespace="chat",${CANARY}}[2m]`);
    expect(ws).to.include(
      `chat_message_send_ack_latency_seconds_bucket{namespace="chat",${CANARY},le="0.3"}[2m]`,
    );
    // The guard counts the WebSocket sends themselves.
    expect(ws).to.match(
      /and on\(\) \(\(sum\(rate\(chat_message_ws_sends_total\{namespace="chat",rollouts_pod_template_hash="\{\{args.canary-hash\}\}"\}\[2m\]\)\)\) \* 120 >= 100\)$/,
    );
    // HTTP and WebSocket errors together, so a quiet HTTP API does not leave message unjudged.
    const both = metrics[1]!.provider.prometheus.query;
    expect(both).to.include('chat_message_http_requests_total');
    expect(both).to.include('chat_message_ws_sends_total');
  });

  it('judges notification on deliveries that failed or were dead-lettered, not on HTTP', () => {
    const metrics = metricsOf(canaryHealthAnalysisTemplate(sampleCluster(), 'notification'));
    expect(metrics.map((m) => m.name)).to.deep.equal(['delivery-failures']);
    const query = metrics[0]!.provider.prometheus.query;
    expect(query).to.include(`chat_notification_failed_total{namespace="chat",${CANARY}}[2m]`);
    expect(query).to.include(
      `chat_notification_dead_lettered_total{namespace="chat",${CANARY},provider!="none"}[2m]`,
    );
    expect(query).to.include(`chat_notification_sent_total{namespace="chat",${CANARY}}[2m]`);
    expect(query).to.not.include('http_requests_total');
  });
});
