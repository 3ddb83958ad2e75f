// Metric-name drift: which names the SLO definitions, the rule files, the dashboards and the operator's
// analysis templates read, and which names the running services export. Pure functions over text and
// objects; the test feeds them the committed files and the real /metrics pages.
import { queriesOf, type GrafanaDashboard } from '@chatcluster/dashboards';
import { defaultedSpec, desiredObjects, ALL_CAPABILITIES, type ChatCluster } from '@chatcluster/operator';
import { loadSlos, type DefinitionFile, type RuleGroup } from '@chatcluster/slo-compiler';
import { promqlMetricNames } from '@chatcluster/slo-compiler/contract';
import { parse } from 'yaml';

/** Series Prometheus makes itself, never a service's. */
export const PROMETHEUS_SERIES = new Set(['ALERTS', 'ALERTS_FOR_STATE', 'up']);

/**
 * Every series name a /metrics page (Prometheus text format) exports: each sample's name, and each
 * `# TYPE` line's family, so a labelled family nothing has been counted in yet still counts. A histogram
 * family stands for its `_bucket`, `_count` and `_sum` series, a summary for itself, `_count` and `_sum`.
 */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)\s*$/.exec(line);
    if (type) {
      const [, family, kind] = type as unknown as [string, string, string];
      if (kind === 'histogram')
        for (const suffix of ['_bucket', '_count', '_sum']) names.add(family + suffix);
      else if (kind === 'summary') for (const suffix of ['', '_count', '_sum']) names.add(family + suffix);
      else names.add(family);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{|\s)/.exec(line);
    if (!sample) throw new Error(`not a line of the Prometheus text format: ${line}`);
    names.add(sample[1]!);
  }
  return names;
}

/** One metric name read somewhere: `where` says by what (a file and a rule, a dashboard panel, …). */
export interface MetricUse {
  where: string;
  name: string;
}

/** A PromQL expression and where it is. */
export interface Query {
  where: string;
  expr: string;
}

/** The metric names each query selects. */
export function usesOf(queries: Query[]): MetricUse[] {
  return queries.flatMap(({ where, expr }) => promqlMetricNames(expr).map((name) => ({ where, name })));
}

/** The counters each SLI divides (total, and bad or good), with the service the SLO belongs to. */
export function definitionUses(files: DefinitionFile[]): (MetricUse & { service: string })[] {
  return loadSlos(files).flatMap((slo) =>
    [...slo.sli.total, ...(slo.sli.bad ?? []), ...(slo.sli.good ?? [])].map((selector) => ({
      where: `SLO ${slo.name}`,
      name: selector.metric,
      service: slo.service,
    })),
  );
}

/** The expressions of rule groups, named by `source`, the group and each rule's record or alert name. */
export function ruleQueries(source: string, groups: RuleGroup[]): Query[] {
  return groups.flatMap((group) =>
    group.rules.map((rule) => ({
      where: `${source} ${group.name}: ${'record' in rule ? rule.record : rule.alert}`,
      expr: rule.expr,
    })),
  );
}

/** Names recorded by rule groups: series Prometheus makes from the services' ones. */
export function recordedNames(groups: RuleGroup[]): Set<string> {
  return new Set(
    groups.flatMap((group) => group.rules.flatMap((rule) => ('record' in rule ? [rule.record] : []))),
  );
}

/** A rule file's groups. */
export function ruleFileGroups(text: string): RuleGroup[] {
  return (parse(text) as { groups: RuleGroup[] }).groups;
}

/** Every query of a dashboard JSON file, as Grafana loads it. */
export function dashboardQueries(file: string, json: string): Query[] {
  return queriesOf(JSON.parse(json) as GrafanaDashboard).map((q) => ({
    where: `${file}: ${q.panel}`,
    expr: q.expr,
  }));
}

/**
 * What the operator applies for a ChatCluster manifest (with every optional CRD served): its
 * AnalysisTemplates' queries (the SLO burn-rate gates and the canary health checks) and its
 * PrometheusRule's groups.
 */
export function operatorObjects(manifest: string): { analysisQueries: Query[]; ruleGroups: RuleGroup[] } {
  const doc = parse(manifest) as { metadata: { name: string }; spec: unknown };
  const cluster = {
    apiVersion: 'chatcluster.io/v1alpha1',
    kind: 'ChatCluster',
    metadata: { name: doc.metadata.name, namespace: 'chat', uid: 'slo-metric-names', generation: 1 },
    spec: defaultedSpec(doc.spec),
  } as ChatCluster;
  const objects = desiredObjects(cluster, ALL_CAPABILITIES) as unknown as {
    kind: string;
    metadata: { name: string };
    spec: {
      metrics?: { name: string; provider: { prometheus?: { query: string } } }[];
      groups?: RuleGroup[];
    };
  }[];
  const analysisQueries = objects
    .filter((o) => o.kind === 'AnalysisTemplate')
    .flatMap((o) =>
      (o.spec.metrics ?? []).map((metric) => {
        const query = metric.provider.prometheus?.query;
        if (query === undefined)
          throw new Error(`AnalysisTemplate ${o.metadata.name}: not a Prometheus metric`);
        return { where: `AnalysisTemplate ${o.metadata.name}: ${metric.name}`, expr: query };
      }),
    );
  const ruleGroups = objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => o.spec.groups ?? []);
  return { analysisQueries, ruleGroups };
}

/** Uses of names that no service exports, no rule records and Prometheus does not make. */
export function unexported(uses: MetricUse[], exported: Set<string>, recorded: Set<string>): MetricUse[] {
  return uses.filter(
    ({ name }) => !exported.has(name) && !recorded.has(name) && !PROMETHEUS_SERIES.has(name),
  );
}
