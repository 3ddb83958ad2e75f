import { expect } from 'chai';
import {
  burnRateSuccessCondition,
  guardedBurnRateConditions,
  parseSloDocuments,
  toAnalysisTemplate,
  type SloSpec,
} from '../../src/index.js';

const slo = (): SloSpec =>
  parseSloDocuments(`
apiVersion: openslo/v1
kind: SLO
metadata: { name: api-availability }
spec:
  service: api
  indicator:
    metadata: { name: requests }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: Prometheus, spec: { query: 'x_requests_total{code=~"5.."}' } } }
        total: { metricSource: { type: Prometheus, spec: { query: x_requests_total } } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.995 }]
`)[0]!;

/**
 * Evaluates the success condition the way Argo's expression language does, for the only clauses it
 * may contain (joined by `||`); an unknown clause fails the test instead of being guessed at.
 */
function evaluate(condition: string, result: number[]): boolean {
  return condition.split(' || ').some((clause) => {
    if (clause === 'len(result) == 0') return result.length === 0;
    if (clause === 'result[0] != result[0]') return result[0] !== result[0]; // true only for NaN
    const below = /^result\[0\] < ([0-9.]+)$/.exec(clause);
    if (below) return result[0]! < Number(below[1]);
    throw new Error(`unknown clause in the success condition: ${clause}`);
  });
}

describe('toAnalysisTemplate', () => {
  const options = {
    name: 'api-slo',
    namespace: 'chat',
    maxBurnRate: 2,
    prometheusAddress: 'http://prometheus:9090',
  };

  it('builds an argoproj.io/v1alpha1 AnalysisTemplate with one burn-rate metric', () => {
    const template = toAnalysisTemplate(slo(), options);
    expect(template.apiVersion).to.equal('argoproj.io/v1alpha1');
    expect(template.kind).to.equal('AnalysisTemplate');
    expect(template.metadata).to.deep.equal({ name: 'api-slo', namespace: 'chat' });
    expect(template.spec.args).to.equal(undefined);
    const [metric] = template.spec.metrics;
    expect(metric).to.include({
      name: 'api-availability-burn-rate',
      interval: '1m',
      count: 5,
      failureLimit: 0,
    });
    expect(metric!.provider.prometheus.address).to.equal('http://prometheus:9090');
    expect(metric!.successCondition).to.equal(burnRateSuccessCondition(2));
  });

  it('queries the burn rate over the window: errors / positive total / budget, 0 without traffic', () => {
    const query = toAnalysisTemplate(slo(), { ...options, window: '2m' }).spec.metrics[0]!.provider.prometheus
      .query;
    expect(query).to.equal(
      '(\n  (sum(rate(x_requests_total{code=~"5.."}[2m])) or vector(0))\n  /\n  ((sum(rate(x_requests_total[2m])) or vector(0)) > 0)\n  / 0.005\n)\nor on() vector(0)',
    );
  });

  it('scopes the query to the canary and declares the Argo arguments it uses', () => {
    const template = toAnalysisTemplate(slo(), {
      ...options,
      matchLabels: { namespace: 'chat', rollouts_pod_template_hash: '{{args.canary-hash}}' },
    });
    expect(template.spec.args).to.deep.equal([{ name: 'canary-hash' }]);
    expect(template.spec.metrics[0]!.provider.prometheus.query).to.contain(
      'x_requests_total{code=~"5..",namespace="chat",rollouts_pod_template_hash="{{args.canary-hash}}"}[5m]',
    );
  });

  it('passes under the factor, fails at or over it, and never fails on NaN or an empty result', () => {
    const condition = burnRateSuccessCondition(2);
    expect(evaluate(condition, [0])).to.equal(true);
    expect(evaluate(condition, [1.99])).to.equal(true);
    expect(evaluate(condition, [2])).to.equal(false);
    expect(evaluate(condition, [14.4])).to.equal(false);
    expect(evaluate(condition, [Infinity])).to.equal(false);
    expect(evaluate(condition, [NaN])).to.equal(true);
    expect(evaluate(condition, [])).to.equal(true);
  });

  it('takes interval, count and failureLimit, and rejects nonsense', () => {
    const metric = toAnalysisTemplate(slo(), { ...options, interval: '30s', count: 10, failureLimit: 1 }).spec
      .metrics[0]!;
    expect(metric).to.include({ interval: '30s', count: 10, failureLimit: 1 });
    expect(() => toAnalysisTemplate(slo(), { ...options, maxBurnRate: 0 })).to.throw(
      /maxBurnRate must be above 0/,
    );
    expect(() => toAnalysisTemplate(slo(), { ...options, interval: 'often' })).to.throw(
      /interval must be a duration/,
    );
    expect(() => toAnalysisTemplate(slo(), { ...options, count: 0 })).to.throw(
      /count must be a whole number/,
    );
  });

  describe('with a minimum-traffic guard (background analysis of a whole canary)', () => {
    const guarded = { ...options, count: null, minimumEvents: 100, initialDelay: '1m', window: '2m' };

    it('leaves count out so that Argo measures until the Rollout stops the run', () => {
      const metric = toAnalysisTemplate(slo(), guarded).spec.metrics[0]!;
      expect(metric).to.not.have.property('count');
      expect(metric).to.include({
        interval: '1m',
        initialDelay: '1m',
        failureLimit: 0,
        inconclusiveLimit: 0,
      });
    });

    it('yields a sample only when the window holds the minimum of events (the SLI total)', () => {
      const query = toAnalysisTemplate(slo(), guarded).spec.metrics[0]!.provider.prometheus.query;
      expect(query).to.equal(
        '(\n  (sum(rate(x_requests_total{code=~"5.."}[2m])) or vector(0))\n  /\n  ((sum(rate(x_requests_total[2m])) or vector(0)) > 0)\n  / 0.005\n)\n' +
          'and on() ((sum(rate(x_requests_total[2m])) or vector(0)) * 120 >= 100)',
      );
      expect(query).to.not.contain('vector(0)\n)\nor');
    });

    /** Argo's verdict on one measurement: Failed wins, then Successful, else Inconclusive. */
    function verdict(result: number[]): 'Successful' | 'Failed' | 'Inconclusive' {
      const { successCondition, failureCondition } = guardedBurnRateConditions(2);
      const holds = (condition: string) =>
        condition.split(' && ').every((clause) => {
          if (clause === 'len(result) == 1') return result.length === 1;
          if (clause === '!isNaN(result[0])') return !Number.isNaN(result[0]);
          const below = /^result\[0\] < ([0-9.]+)$/.exec(clause);
          if (below) return result[0]! < Number(below[1]);
          const atLeast = /^result\[0\] >= ([0-9.]+)$/.exec(clause);
          if (atLeast) return result[0]! >= Number(atLeast[1]);
          throw new Error(`unknown clause: ${clause}`);
        });
      if (holds(failureCondition)) return 'Failed';
      return holds(successCondition) ? 'Successful' : 'Inconclusive';
    }

    it('passes under the factor, fails at or over it, and is Inconclusive without enough traffic or on NaN', () => {
      const template = toAnalysisTemplate(slo(), guarded).spec.metrics[0]!;
      expect(template).to.include(guardedBurnRateConditions(2));
      expect(verdict([0])).to.equal('Successful');
      expect(verdict([1.99])).to.equal('Successful');
      expect(verdict([2])).to.equal('Failed');
      expect(verdict([Infinity])).to.equal('Failed');
      expect(verdict([])).to.equal('Inconclusive');
      expect(verdict([NaN])).to.equal('Inconclusive');
    });

    it('rejects a minimum that is not above 0 and an initialDelay that is not a duration', () => {
      expect(() => toAnalysisTemplate(slo(), { ...guarded, minimumEvents: 0 })).to.throw(
        /minimumEvents must be above 0/,
      );
      expect(() => toAnalysisTemplate(slo(), { ...guarded, initialDelay: 'soon' })).to.throw(
        /initialDelay must be a duration/,
      );
    });
  });
});
