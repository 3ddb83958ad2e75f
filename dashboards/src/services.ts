// The services, their metric prefixes (docs/architecture.md, "Metric names"), and which of the kit's
// resilience families each one exports: every service has circuit breakers, but only some retry or
// run bulkheads, and only those with a store of their own time its calls (`store_call_duration_seconds`). The SLO suite scrapes the running services and fails when a dashboard reads a metric
// name none of them exports.
export const SERVICES = [
  { name: 'auth', prefix: 'chat_auth', retries: true, bulkheads: false, stores: true },
  { name: 'message', prefix: 'chat_message', retries: false, bulkheads: false, stores: true },
  { name: 'notification', prefix: 'chat_notification', retries: true, bulkheads: true, stores: false },
] as const;

export const OPERATOR_PREFIX = 'chat_operator';
