// The services and their metric prefixes (docs/architecture.md, "Metric names").
export const SERVICES = [
  { name: 'auth', prefix: 'chat_auth' },
  { name: 'message', prefix: 'chat_message' },
  { name: 'notification', prefix: 'chat_notification' },
] as const;

export const OPERATOR_PREFIX = 'chat_operator';
