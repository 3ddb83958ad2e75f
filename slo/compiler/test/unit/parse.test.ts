import { expect } from 'chai';
import { SloDefinitionError, parseSloDocuments, toYaml } from '../../src/index.js';

type Doc = Record<string, unknown>;

/** Sets (or with `undefined`, deletes) the field at a dotted path like "spec.objectives.0.target". */
function set(doc: Doc, path: string, value: unknown): void {
  const keys = path.split('.');
  let target = doc as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete target[last];
  else target[last] = value;
}

const get = (doc: Doc, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], doc);

const condition = (spec: Doc): Doc[] => [
  { kind: 'AlertPolicy', spec: { conditions: [{ kind: 'AlertCondition', metadata: { name: 'c' }, spec }] } },
];

function sli(): Doc {
  return {
    apiVersion: 'openslo/v1',
    kind: 'SLI',
    metadata: { name: 'requests-without-5xx' },
    spec: {
      ratioMetric: {
        counter: true,
        bad: { metricSource: { type: 'Prometheus', spec: { query: 'x_requests_total{code=~"5.."}' } } },
        total: { metricSource: { type: 'Prometheus', spec: { query: 'x_requests_total' } } },
      },
    },
  };
}

function slo(): Doc {
  return {
    apiVersion: 'openslo/v1',
    kind: 'SLO',
    metadata: { name: 'api-availability', displayName: 'API availability' },
    spec: {
      description: 'Requests succeed.',
      service: 'api',
      indicatorRef: 'requests-without-5xx',
      timeWindow: [{ duration: '30d', isRolling: true }],
      budgetingMethod: 'Occurrences',
      objectives: [{ target: 0.995 }],
    },
  };
}

const text = (...docs: Doc[]): string => docs.map((doc) => toYaml(doc)).join('---\n');

/** The error message parsing these documents gives. */
function errorOf(...docs: Doc[]): string {
  try {
    parseSloDocuments(text(...docs));
  } catch (error) {
    expect(error).to.be.instanceOf(SloDefinitionError);
    return (error as Error).message;
  }
  throw new Error('expected the documents to be rejected');
}

describe('parseSloDocuments', () => {
  it('reads an SLO with a referenced SLI into a SloSpec', () => {
    expect(parseSloDocuments(text(sli(), slo()))).to.deep.equal([
      {
        name: 'api-availability',
        displayName: 'API availability',
        description: 'Requests succeed.',
        service: 'api',
        objective: 0.995,
        period: '30d',
        sli: {
          name: 'requests-without-5xx',
          total: [{ metric: 'x_requests_total', matchers: [] }],
          bad: [{ metric: 'x_requests_total', matchers: [{ name: 'code', op: '=~', value: '5..' }] }],
        },
        conditions: [],
      },
    ]);
  });

  it('accepts an inline indicator, targetPercent, a 28d (or 4w) window, and summed good counters', () => {
    const doc = slo();
    set(doc, 'spec.indicatorRef', undefined);
    set(doc, 'spec.indicator', { metadata: { name: 'inline' }, spec: sli().spec });
    set(doc, 'spec.indicator.spec.ratioMetric.good', get(doc, 'spec.indicator.spec.ratioMetric.bad'));
    set(doc, 'spec.indicator.spec.ratioMetric.bad', undefined);
    set(doc, 'spec.indicator.spec.ratioMetric.good.metricSource.spec.query', 'a_total + b_total{x="1+2"}');
    set(doc, 'spec.objectives', [{ targetPercent: 99.9 }]);
    set(doc, 'spec.timeWindow', [{ duration: '4w', isRolling: true }]);
    const [spec] = parseSloDocuments(text(doc));
    expect(spec!.objective).to.equal(0.999);
    expect(spec!.period).to.equal('28d');
    expect(spec!.sli.good!.map((s) => s.metric)).to.deep.equal(['a_total', 'b_total']);
    expect(spec!.sli.good![1]!.matchers[0]!.value).to.equal('1+2');
  });

  it('reads alert conditions inline and by reference, mapping page/ticket to critical/warning', () => {
    const doc = slo();
    set(doc, 'spec.alertPolicies', [
      {
        kind: 'AlertPolicy',
        metadata: { name: 'fast' },
        spec: {
          conditions: [
            {
              kind: 'AlertCondition',
              metadata: { name: 'api-fast-burn' },
              spec: {
                severity: 'page',
                condition: {
                  kind: 'burnrate',
                  op: 'gte',
                  threshold: 2,
                  lookbackWindow: '10m',
                  alertAfter: '2m',
                },
              },
            },
          ],
        },
      },
      { alertPolicyRef: 'shared' },
    ]);
    const policy = {
      apiVersion: 'openslo/v1',
      kind: 'AlertPolicy',
      metadata: { name: 'shared' },
      spec: { conditions: [{ conditionRef: 'slow' }] },
    };
    const condition = {
      apiVersion: 'openslo/v1',
      kind: 'AlertCondition',
      metadata: { name: 'slow' },
      spec: {
        severity: 'ticket',
        condition: { kind: 'burnrate', op: 'gt', threshold: 1, lookbackWindow: '4h' },
      },
    };
    const [spec] = parseSloDocuments(text(sli(), doc, policy, condition));
    expect(spec!.conditions).to.deep.equal([
      {
        alertName: 'ApiFastBurn',
        description: '',
        severity: 'critical',
        op: '>=',
        threshold: 2,
        lookbackWindow: '10m',
        alertAfter: '2m',
      },
      {
        alertName: 'Slow',
        description: '',
        severity: 'warning',
        op: '>',
        threshold: 1,
        lookbackWindow: '4h',
        alertAfter: '0s',
      },
    ]);
  });

  it('reads the minimum-events annotation', () => {
    const doc = slo();
    set(doc, 'metadata.annotations', { 'chatcluster.io/minimum-events': '50' });
    expect(parseSloDocuments(text(sli(), doc))[0]!.minimumEvents).to.equal(50);
    set(doc, 'metadata.annotations', { 'chatcluster.io/minimum-events': 'many' });
    expect(errorOf(sli(), doc)).to.match(
      /metadata.annotations\["chatcluster.io\/minimum-events"\] must be a whole number/,
    );
  });

  it('ignores Service documents and empty documents', () => {
    const service = { apiVersion: 'openslo/v1', kind: 'Service', metadata: { name: 'api' }, spec: {} };
    expect(parseSloDocuments(`---\n${text(service, sli(), slo())}---\n`)).to.have.length(1);
  });

  describe('names the document and the field of every mistake', () => {
    const cases: [string, (sloDoc: Doc, sliDoc: Doc) => void, RegExp][] = [
      [
        'a percentage as target',
        (d) => set(d, 'spec.objectives', [{ target: 99.5 }]),
        /SLO "api-availability" \(document 2\): spec.objectives\[0\].target must be between 0 and 1/,
      ],
      [
        'a missing service',
        (d) => set(d, 'spec.service', undefined),
        /spec.service must be a non-empty string, got nothing/,
      ],
      [
        'time slices',
        (d) => set(d, 'spec.budgetingMethod', 'Timeslices'),
        /spec.budgetingMethod must be "Occurrences"/,
      ],
      [
        'a 7d window',
        (d) => set(d, 'spec.timeWindow', [{ duration: '7d', isRolling: true }]),
        /spec.timeWindow\[0\].duration must be 30d or 28d, got "7d"/,
      ],
      [
        'a calendar window',
        (d) => set(d, 'spec.timeWindow', [{ duration: '30d', isRolling: false }]),
        /isRolling must be true/,
      ],
      [
        'two objectives',
        (d) => set(d, 'spec.objectives', [{ target: 0.9 }, { target: 0.99 }]),
        /spec.objectives must hold exactly one objective, got 2/,
      ],
      [
        'an unknown SLI',
        (d) => set(d, 'spec.indicatorRef', 'nope'),
        /spec.indicatorRef refers to SLI "nope", which is not defined/,
      ],
      [
        'both indicator forms',
        (d) => set(d, 'spec.indicator', {}),
        /spec.indicator or spec.indicatorRef must be set, exactly one/,
      ],
      [
        'an upper-case name',
        (d) => set(d, 'metadata.name', 'Api'),
        /metadata.name must be a lowercase DNS label/,
      ],
      [
        'another API version',
        (d) => set(d, 'apiVersion', 'openslo/v1alpha'),
        /document 2: apiVersion must be "openslo\/v1"/,
      ],
      ['an unknown kind', (d) => set(d, 'kind', 'SLA'), /kind must be one of SLO, SLI/],
      [
        'a function in a query',
        (_d, s) => set(s, 'spec.ratioMetric.total.metricSource.spec.query', 'rate(x_requests_total[5m])'),
        /SLI "requests-without-5xx" \(document 1\): spec.ratioMetric.total.metricSource.spec.query must be counter selectors/,
      ],
      [
        'another data source',
        (_d, s) => set(s, 'spec.ratioMetric.total.metricSource.type', 'Datadog'),
        /metricSource.type must be Prometheus, got "Datadog"/,
      ],
      [
        'a gauge SLI',
        (_d, s) => set(s, 'spec.ratioMetric.counter', false),
        /spec.ratioMetric.counter must be true/,
      ],
      [
        'good and bad',
        (_d, s) => set(s, 'spec.ratioMetric.good', get(s, 'spec.ratioMetric.bad')),
        /spec.ratioMetric.good or bad must be set, exactly one/,
      ],
      [
        'a threshold metric',
        (_d, s) => set(s, 'spec.thresholdMetric', {}),
        /spec.thresholdMetric is not supported/,
      ],
      [
        'a bad severity',
        (d) =>
          set(
            d,
            'spec.alertPolicies',
            condition({
              severity: 'urgent',
              condition: { kind: 'burnrate', op: 'gt', threshold: 1, lookbackWindow: '5m' },
            }),
          ),
        /spec.alertPolicies\[0\].spec.conditions\[0\].spec.severity must be page, critical, ticket or warning, got "urgent"/,
      ],
      [
        'a "less than" burn condition',
        (d) =>
          set(
            d,
            'spec.alertPolicies',
            condition({
              severity: 'page',
              condition: { kind: 'burnrate', op: 'lt', threshold: 1, lookbackWindow: '5m' },
            }),
          ),
        /condition.op must be gt or gte/,
      ],
      [
        'a bad lookback',
        (d) =>
          set(
            d,
            'spec.alertPolicies',
            condition({
              severity: 'page',
              condition: { kind: 'burnrate', op: 'gt', threshold: 1, lookbackWindow: 'soon' },
            }),
          ),
        /condition.lookbackWindow must be a duration like 5m/,
      ],
    ];
    for (const [mistake, mutate, message] of cases) {
      it(mistake, () => {
        const sloDoc = slo();
        const sliDoc = sli();
        mutate(sloDoc, sliDoc);
        expect(errorOf(sliDoc, sloDoc)).to.match(message);
      });
    }

    it('two SLOs with one name', () => {
      expect(errorOf(sli(), slo(), slo())).to.match(
        /SLO "api-availability" \(document 3\): metadata.name is also used by SLO "api-availability" \(document 2\)/,
      );
    });

    it('YAML that does not parse', () => {
      expect(() => parseSloDocuments('kind: [')).to.throw(SloDefinitionError, /document 1: invalid YAML/);
    });
  });
});
