// @chatcluster/slo-compiler: OpenSLO definitions in; rule groups, PrometheusRule, AnalysisTemplate and
// Alertmanager routing out. No I/O here (the CLI in cli.ts does that).
export { parseSloDocuments, SloDefinitionError, MINIMUM_EVENTS_ANNOTATION } from './parse.js';
export {
  compileRuleGroups,
  formatNumber,
  BURN_RATE_ALERTS,
  DEFAULT_RUNBOOK_BASE_URL,
  DEFAULT_MINIMUM_EVENTS,
  DEFAULT_ABSENT_FOR,
  type CompileOptions,
} from './rules.js';
export {
  toRuleFileYaml,
  toPrometheusRule,
  toYaml,
  type PrometheusRuleOptions,
  type PrometheusRuleObject,
} from './outputs.js';
export {
  toAnalysisTemplate,
  burnRateQuery,
  burnRateSuccessCondition,
  guardedBurnRateQuery,
  guardedBurnRateConditions,
  type AnalysisTemplateOptions,
  type AnalysisTemplateObject,
} from './analysis.js';
export {
  alertmanagerConfig,
  DEFAULT_PAGER_WEBHOOK,
  DEFAULT_CHAT_WEBHOOK,
  type AlertmanagerOptions,
  type AlertmanagerConfig,
  type Receiver,
} from './alertmanager.js';
export { generateOutputs, loadSlos, type DefinitionFile, type GenerateOptions } from './generate.js';
export {
  readinessRuleGroup,
  readinessGauge,
  READINESS_ALERT,
  READINESS_RUNBOOK,
  READINESS_SERVICES,
  type ReadinessAlertOptions,
  type ReadinessService,
} from './readiness.js';
export { parseSelector, formatSelector } from './selector.js';
export { parseDuration, formatDuration } from './duration.js';
export * from './names.js';
export type * from './types.js';
