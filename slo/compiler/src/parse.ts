// OpenSLO v1 documents -> validated SloSpec objects. Only what the compiler can honour is accepted
// (ratio counters, occurrences budgeting, rolling 30d/28d, burn-rate alert conditions); anything else
// is an error that names the document and the field, so a typo never becomes a silently wrong alert.
import { parseAllDocuments } from 'yaml';
import { parseDuration, formatDuration } from './duration.js';
import { pascalCase } from './names.js';
import { parseSelector } from './selector.js';
import type { BurnRateCondition, RatioSli, Selector, SloSpec } from './types.js';

export const API_VERSION = 'openslo/v1';
/** Annotation on an SLO overriding the minimum-traffic guard of its alerts. */
export const MINIMUM_EVENTS_ANNOTATION = 'chatcluster.io/minimum-events';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const PERIODS: Record<string, '30d' | '28d'> = { '30d': '30d', '28d': '28d', '4w': '28d' };
const SEVERITIES: Record<string, 'critical' | 'warning'> = {
  page: 'critical',
  critical: 'critical',
  ticket: 'warning',
  warning: 'warning',
};

/** A definition problem; the message starts with the document and the field path. */
export class SloDefinitionError extends Error {
  override name = 'SloDefinitionError';
}

type Doc = Record<string, unknown>;

/** Reads fields of one document, prefixing every error with where it is. */
class Reader {
  constructor(private readonly where: string) {}

  fail(path: string, problem: string): never {
    throw new SloDefinitionError(`${this.where}: ${path} ${problem}`);
  }
  object(value: unknown, path: string): Doc {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `must be a mapping, got ${describe(value)}`);
    }
    return value as Doc;
  }
  optionalObject(value: unknown, path: string): Doc | undefined {
    return value === undefined ? undefined : this.object(value, path);
  }
  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `must be a list, got ${describe(value)}`);
    return value as unknown[];
  }
  string(value: unknown, path: string): string {
    if (typeof value !== 'string' || value.trim() === '') {
      this.fail(path, `must be a non-empty string, got ${describe(value)}`);
    }
    return value;
  }
  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path);
  }
  number(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.fail(path, `must be a number, got ${describe(value)}`);
    }
    return value;
  }
  duration(value: unknown, path: string): string {
    const text = this.string(value, path);
    const seconds = parseDuration(text);
    if (seconds === undefined) this.fail(path, `must be a duration like 5m, 1h or 30d, got "${text}"`);
    return formatDuration(seconds);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

interface Indexed {
  kind: string;
  name: string;
  where: string;
  doc: Doc;
}

/**
 * Parses a YAML stream of OpenSLO v1 documents (SLO, SLI, AlertPolicy, AlertCondition; Service is
 * accepted and ignored) and returns one SloSpec per SLO, in document order. References
 * (`indicatorRef`, `alertPolicyRef`, `conditionRef`) resolve within the same text.
 */
export function parseSloDocuments(yamlText: string): SloSpec[] {
  const documents = parseAllDocuments(yamlText);
  if (!Array.isArray(documents)) throw new SloDefinitionError('the text is not a YAML document stream');
  const indexed: Indexed[] = [];
  documents.forEach((document, index) => {
    const position = `document ${index + 1}`;
    if (document.errors.length > 0) {
      throw new SloDefinitionError(`${position}: invalid YAML: ${document.errors[0]!.message}`);
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return; // an empty document between two `---`
    const reader = new Reader(position);
    const doc = reader.object(value, '(document)');
    if (doc.apiVersion !== API_VERSION) {
      reader.fail('apiVersion', `must be "${API_VERSION}", got ${describe(doc.apiVersion)}`);
    }
    const kind = reader.string(doc.kind, 'kind');
    if (!['SLO', 'SLI', 'AlertPolicy', 'AlertCondition', 'Service'].includes(kind)) {
      reader.fail('kind', `must be one of SLO, SLI, AlertPolicy, AlertCondition, Service, got "${kind}"`);
    }
    const name = dnsName(reader, reader.object(doc.metadata, 'metadata').name, 'metadata.name');
    const where = `${kind} "${name}" (${position})`;
    const duplicate = indexed.find((other) => other.kind === kind && other.name === name);
    if (duplicate) new Reader(where).fail('metadata.name', `is also used by ${duplicate.where}`);
    indexed.push({ kind, name, where, doc });
  });

  const find = (kind: string, name: string, reader: Reader, path: string): Indexed => {
    const found = indexed.find((entry) => entry.kind === kind && entry.name === name);
    if (!found) reader.fail(path, `refers to ${kind} "${name}", which is not defined`);
    return found;
  };

  return indexed
    .filter((entry) => entry.kind === 'SLO')
    .map((entry) => parseSlo(entry, new Reader(entry.where), find));
}

type Finder = (kind: string, name: string, reader: Reader, path: string) => Indexed;

function dnsName(reader: Reader, value: unknown, path: string): string {
  const name = reader.string(value, path);
  if (!DNS_LABEL.test(name) || name.length > 63) {
    reader.fail(path, `must be a lowercase DNS label (a-z, 0-9, -), got "${name}"`);
  }
  return name;
}

function parseSlo(entry: Indexed, reader: Reader, find: Finder): SloSpec {
  const metadata = reader.object(entry.doc.metadata, 'metadata');
  const spec = reader.object(entry.doc.spec, 'spec');

  const service = reader.string(spec.service, 'spec.service');
  if (!LABEL_VALUE.test(service))
    reader.fail('spec.service', `must be usable as a label value, got "${service}"`);

  if (spec.budgetingMethod !== 'Occurrences') {
    reader.fail(
      'spec.budgetingMethod',
      `must be "Occurrences" (the only method supported), got ${describe(spec.budgetingMethod)}`,
    );
  }

  const windows = reader.array(spec.timeWindow, 'spec.timeWindow');
  if (windows.length !== 1)
    reader.fail('spec.timeWindow', `must hold exactly one window, got ${windows.length}`);
  const window = reader.object(windows[0], 'spec.timeWindow[0]');
  if (window.isRolling !== true)
    reader.fail('spec.timeWindow[0].isRolling', 'must be true (calendar windows are not supported)');
  const durationText = reader.string(window.duration, 'spec.timeWindow[0].duration');
  const period = PERIODS[durationText];
  if (!period) reader.fail('spec.timeWindow[0].duration', `must be 30d or 28d, got "${durationText}"`);

  const objectives = reader.array(spec.objectives, 'spec.objectives');
  if (objectives.length !== 1)
    reader.fail('spec.objectives', `must hold exactly one objective, got ${objectives.length}`);
  const objective = parseObjective(reader, reader.object(objectives[0], 'spec.objectives[0]'));

  const sli = parseIndicator(reader, spec, find);
  const conditions = parseAlertPolicies(reader, spec.alertPolicies, find);

  const annotations = reader.optionalObject(metadata.annotations, 'metadata.annotations') ?? {};
  let minimumEvents: number | undefined;
  const minimumText = annotations[MINIMUM_EVENTS_ANNOTATION];
  if (minimumText !== undefined) {
    const path = `metadata.annotations["${MINIMUM_EVENTS_ANNOTATION}"]`;
    const text = reader.string(minimumText, path);
    minimumEvents = Number(text);
    if (!Number.isInteger(minimumEvents) || minimumEvents < 0) {
      reader.fail(path, `must be a whole number of events, got "${text}"`);
    }
  }

  return {
    name: entry.name,
    displayName: reader.optionalString(metadata.displayName, 'metadata.displayName') ?? entry.name,
    description: reader.optionalString(spec.description, 'spec.description') ?? '',
    service,
    objective,
    period: period,
    sli,
    conditions,
    ...(minimumEvents === undefined ? {} : { minimumEvents }),
  };
}

function parseObjective(reader: Reader, objective: Doc): number {
  const path = 'spec.objectives[0]';
  if (objective.target !== undefined && objective.targetPercent !== undefined) {
    reader.fail(path, 'must set target or targetPercent, not both');
  }
  if (objective.targetPercent !== undefined) {
    const percent = reader.number(objective.targetPercent, `${path}.targetPercent`);
    if (!(percent > 0 && percent < 100))
      reader.fail(`${path}.targetPercent`, `must be between 0 and 100 exclusive, got ${percent}`);
    return Number((percent / 100).toPrecision(12));
  }
  const target = reader.number(objective.target, `${path}.target`);
  if (!(target > 0 && target < 1)) {
    reader.fail(`${path}.target`, `must be between 0 and 1 exclusive (0.999 for 99.9 %), got ${target}`);
  }
  return target;
}

function parseIndicator(reader: Reader, spec: Doc, find: Finder): RatioSli {
  if ((spec.indicator === undefined) === (spec.indicatorRef === undefined)) {
    reader.fail('spec.indicator', 'or spec.indicatorRef must be set, exactly one of them');
  }
  if (spec.indicatorRef !== undefined) {
    const name = reader.string(spec.indicatorRef, 'spec.indicatorRef');
    const sli = find('SLI', name, reader, 'spec.indicatorRef');
    const sliReader = new Reader(sli.where);
    return parseRatioMetric(sliReader, name, sliReader.object(sli.doc.spec, 'spec'), 'spec');
  }
  const inline = reader.object(spec.indicator, 'spec.indicator');
  const name = dnsName(
    reader,
    reader.object(inline.metadata, 'spec.indicator.metadata').name,
    'spec.indicator.metadata.name',
  );
  return parseRatioMetric(
    reader,
    name,
    reader.object(inline.spec, 'spec.indicator.spec'),
    'spec.indicator.spec',
  );
}

function parseRatioMetric(reader: Reader, name: string, spec: Doc, path: string): RatioSli {
  if (spec.thresholdMetric !== undefined)
    reader.fail(`${path}.thresholdMetric`, 'is not supported; use ratioMetric');
  const ratio = reader.object(spec.ratioMetric, `${path}.ratioMetric`);
  const at = `${path}.ratioMetric`;
  if (ratio.counter !== true) reader.fail(`${at}.counter`, 'must be true (the SLI is read from counters)');
  if (ratio.raw !== undefined) reader.fail(`${at}.raw`, 'is not supported; give good or bad, and total');
  if ((ratio.good === undefined) === (ratio.bad === undefined)) {
    reader.fail(`${at}.good`, 'or bad must be set, exactly one of them');
  }
  const total = parseMetricSource(reader, ratio.total, `${at}.total`);
  if (ratio.good !== undefined)
    return { name, total, good: parseMetricSource(reader, ratio.good, `${at}.good`) };
  return { name, total, bad: parseMetricSource(reader, ratio.bad, `${at}.bad`) };
}

function parseMetricSource(reader: Reader, value: unknown, path: string): Selector[] {
  const source = reader.object(reader.object(value, path).metricSource, `${path}.metricSource`);
  const type = reader.string(source.type, `${path}.metricSource.type`);
  if (type.toLowerCase() !== 'prometheus')
    reader.fail(`${path}.metricSource.type`, `must be Prometheus, got "${type}"`);
  const queryPath = `${path}.metricSource.spec.query`;
  const query = reader.string(reader.object(source.spec, `${path}.metricSource.spec`).query, queryPath);
  return splitTopLevelPlus(query).map((part) => {
    try {
      return parseSelector(part);
    } catch (error) {
      return reader.fail(queryPath, `must be counter selectors joined by +: ${(error as Error).message}`);
    }
  });
}

/** "a{x=\"1+2\"} + b" -> ["a{x=\"1+2\"} ", " b"]: splits on + outside braces and quotes. */
function splitTopLevelPlus(query: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < query.length; i++) {
    const char = query[i]!;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '{') depth++;
    else if (char === '}') depth--;
    else if (char === '+' && depth === 0) {
      parts.push(query.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(query.slice(start));
  return parts;
}

function parseAlertPolicies(reader: Reader, value: unknown, find: Finder): BurnRateCondition[] {
  if (value === undefined) return [];
  return reader.array(value, 'spec.alertPolicies').flatMap((item, index) => {
    const path = `spec.alertPolicies[${index}]`;
    const policy = reader.object(item, path);
    if (policy.alertPolicyRef !== undefined) {
      const name = reader.string(policy.alertPolicyRef, `${path}.alertPolicyRef`);
      const found = find('AlertPolicy', name, reader, `${path}.alertPolicyRef`);
      const policyReader = new Reader(found.where);
      return parseAlertPolicy(policyReader, policyReader.object(found.doc.spec, 'spec'), 'spec', find);
    }
    if (policy.kind !== 'AlertPolicy')
      reader.fail(
        `${path}.kind`,
        `must be AlertPolicy (or use alertPolicyRef), got ${describe(policy.kind)}`,
      );
    return parseAlertPolicy(reader, reader.object(policy.spec, `${path}.spec`), `${path}.spec`, find);
  });
}

function parseAlertPolicy(reader: Reader, spec: Doc, path: string, find: Finder): BurnRateCondition[] {
  return reader.array(spec.conditions, `${path}.conditions`).map((item, index) => {
    const at = `${path}.conditions[${index}]`;
    const condition = reader.object(item, at);
    if (condition.conditionRef !== undefined) {
      const name = reader.string(condition.conditionRef, `${at}.conditionRef`);
      const found = find('AlertCondition', name, reader, `${at}.conditionRef`);
      const conditionReader = new Reader(found.where);
      return parseAlertCondition(
        conditionReader,
        found.name,
        conditionReader.object(found.doc.spec, 'spec'),
        'spec',
      );
    }
    if (condition.kind !== 'AlertCondition')
      reader.fail(
        `${at}.kind`,
        `must be AlertCondition (or use conditionRef), got ${describe(condition.kind)}`,
      );
    const name = dnsName(
      reader,
      reader.object(condition.metadata, `${at}.metadata`).name,
      `${at}.metadata.name`,
    );
    return parseAlertCondition(reader, name, reader.object(condition.spec, `${at}.spec`), `${at}.spec`);
  });
}

function parseAlertCondition(reader: Reader, name: string, spec: Doc, path: string): BurnRateCondition {
  const severityText = reader.string(spec.severity, `${path}.severity`);
  const severity = SEVERITIES[severityText.toLowerCase()];
  if (!severity)
    reader.fail(`${path}.severity`, `must be page, critical, ticket or warning, got "${severityText}"`);
  const condition = reader.object(spec.condition, `${path}.condition`);
  if (condition.kind !== 'burnrate')
    reader.fail(`${path}.condition.kind`, `must be burnrate, got ${describe(condition.kind)}`);
  const opText = reader.string(condition.op, `${path}.condition.op`);
  const op = ({ gt: '>', gte: '>=' } as const)[opText as 'gt' | 'gte'];
  if (!op)
    reader.fail(`${path}.condition.op`, `must be gt or gte (alert when burning faster), got "${opText}"`);
  const threshold = reader.number(condition.threshold, `${path}.condition.threshold`);
  if (threshold <= 0)
    reader.fail(`${path}.condition.threshold`, `must be a burn rate above 0, got ${threshold}`);
  const lookbackWindow = reader.duration(condition.lookbackWindow, `${path}.condition.lookbackWindow`);
  if (lookbackWindow === '0s') reader.fail(`${path}.condition.lookbackWindow`, 'must be longer than 0s');
  return {
    alertName: pascalCase(name),
    description: reader.optionalString(spec.description, `${path}.description`) ?? '',
    severity: severity,
    op: op,
    threshold,
    lookbackWindow,
    alertAfter:
      condition.alertAfter === undefined
        ? '0s'
        : reader.duration(condition.alertAfter, `${path}.condition.alertAfter`),
  };
}
