// The ChatCluster CustomResourceDefinition, as data. crds/chatcluster.io_chatclusters.yaml and the Helm
// chart's copy are generated from this module (write-crd.ts); a unit test fails when they are stale.
import { API_VERSION, COMPONENTS, GROUP, KIND, PLURAL, VERSION, type ComponentName } from './types.js';

export type JsonSchema = {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  pattern?: string;
  format?: string;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'map' | 'set';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: {
    rule: string;
    message?: string;
    messageExpression?: string;
    reason?: string;
  }[];
};

const str = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({
  type: 'string',
  description,
  ...extra,
});
const int = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({
  type: 'integer',
  description,
  ...extra,
});
const num = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({
  type: 'number',
  description,
  ...extra,
});
const bool = (description: string, fallback: boolean): JsonSchema => ({
  type: 'boolean',
  description,
  default: fallback,
});
const obj = (
  description: string,
  properties: Record<string, JsonSchema>,
  extra: Partial<JsonSchema> = {},
): JsonSchema => ({ type: 'object', description, properties, ...extra });

const DNS_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
// A Kubernetes quantity, as in resources.requests.cpu ("250m", "1", "512Mi").
const QUANTITY = '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$';

const secretKeyRef = (what: string, key: string): JsonSchema =>
  obj(
    `The Secret holding ${what}.`,
    {
      name: str('Name of a Secret in the ChatCluster namespace.', {
        minLength: 1,
        maxLength: 253,
        pattern: DNS_NAME,
      }),
      key: str(`Key inside the Secret.`, { default: key, minLength: 1 }),
    },
    { required: ['name'] },
  );

const secretName = (what: string): JsonSchema =>
  obj(
    `The Secret holding ${what}.`,
    {
      name: str('Name of a Secret in the ChatCluster namespace.', {
        minLength: 1,
        maxLength: 253,
        pattern: DNS_NAME,
      }),
    },
    { required: ['name'] },
  );

const intOrPercent = (description: string, field: string): JsonSchema => ({
  'x-kubernetes-int-or-string': true,
  description,
  'x-kubernetes-validations': [
    {
      rule: "type(self) == int ? self >= 0 : self.matches('^(100|[1-9]?[0-9])%$')",
      message: `${field} must be a non-negative whole number or a percentage from 0% to 100%, such as 1 or 25%`,
    },
  ],
});

interface ComponentDefaults {
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  cpu: string;
  memory: string;
  memoryLimit: string;
}

const COMPONENT_DEFAULTS: Record<ComponentName, ComponentDefaults> = {
  auth: { replicas: 2, minReplicas: 2, maxReplicas: 10, cpu: '100m', memory: '128Mi', memoryLimit: '256Mi' },
  message: {
    replicas: 3,
    minReplicas: 3,
    maxReplicas: 20,
    cpu: '250m',
    memory: '256Mi',
    memoryLimit: '512Mi',
  },
  notification: {
    replicas: 2,
    minReplicas: 2,
    maxReplicas: 10,
    cpu: '100m',
    memory: '128Mi',
    memoryLimit: '256Mi',
  },
};

const COMPONENT_PURPOSE: Record<ComponentName, string> = {
  auth: 'The auth service: users, channels, memberships, JWTs.',
  message: 'The message service: messages and WebSocket delivery.',
  notification: 'The notification service: push and e-mail.',
};

function componentSchema(name: ComponentName): JsonSchema {
  const d = COMPONENT_DEFAULTS[name];
  // Property-level defaults, so setting only cpu still gets the default memory.
  const quantity = (what: string, fallback: string | undefined): JsonSchema =>
    str(`${what}, as a Kubernetes quantity (e.g. 250m, 256Mi).`, {
      pattern: QUANTITY,
      ...(fallback === undefined ? {} : { default: fallback }),
    });
  return obj(
    `${COMPONENT_PURPOSE[name]}`,
    {
      replicas: int('Pods to run when autoscaling is disabled.', {
        default: d.replicas,
        minimum: 1,
        maximum: 1000,
      }),
      resources: obj(
        'Resource requests (used for scheduling and for the CPU autoscaling target) and limits.',
        {
          requests: obj(
            'Requests per pod.',
            { cpu: quantity('CPU', d.cpu), memory: quantity('Memory', d.memory) },
            { default: {} },
          ),
          limits: obj(
            'Limits per pod (no CPU limit by default, to avoid throttling).',
            { cpu: quantity('CPU', undefined), memory: quantity('Memory', d.memoryLimit) },
            { default: {} },
          ),
        },
        { default: {} },
      ),
      autoscaling: obj(
        'HorizontalPodAutoscaler settings. When enabled, replicas is ignored.',
        {
          enabled: bool('Create a HorizontalPodAutoscaler.', true),
          minReplicas: int('Fewest pods.', { default: d.minReplicas, minimum: 1, maximum: 1000 }),
          maxReplicas: int('Most pods.', { default: d.maxReplicas, minimum: 1, maximum: 1000 }),
          targetCPUUtilizationPercentage: int('Average CPU use, in percent of the request, to scale at.', {
            default: 70,
            minimum: 1,
            maximum: 100,
          }),
        },
        {
          // Complete, not {}: the API server checks a default against the object's own CEL rules.
          default: {
            enabled: true,
            minReplicas: d.minReplicas,
            maxReplicas: d.maxReplicas,
            targetCPUUtilizationPercentage: 70,
          },
          'x-kubernetes-validations': [
            {
              rule: 'self.minReplicas <= self.maxReplicas',
              message: 'autoscaling.minReplicas must not be greater than autoscaling.maxReplicas',
              reason: 'FieldValueInvalid',
            },
          ],
        },
      ),
      disruptionBudget: obj(
        'PodDisruptionBudget. Set minAvailable or maxUnavailable, not both; maxUnavailable 1 when neither is set.',
        {
          minAvailable: intOrPercent('Pods that must stay up during voluntary disruptions.', 'minAvailable'),
          maxUnavailable: intOrPercent(
            'Pods that may be down during voluntary disruptions.',
            'maxUnavailable',
          ),
        },
        {
          'x-kubernetes-validations': [
            {
              rule: '!(has(self.minAvailable) && has(self.maxUnavailable))',
              message: 'disruptionBudget: set either minAvailable or maxUnavailable, not both',
            },
          ],
        },
      ),
      logLevel: str('Log level.', {
        default: 'info',
        enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'],
      }),
      version: str(
        'Image tag of this component alone, overriding spec.image.version: releases one service (a canary of it) without the others.',
        { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' },
      ),
    },
    {
      default: {},
      'x-kubernetes-validations': [
        {
          rule: 'self.autoscaling.enabled || !has(self.disruptionBudget) || !has(self.disruptionBudget.minAvailable) || type(self.disruptionBudget.minAvailable) != int || self.disruptionBudget.minAvailable < self.replicas',
          message:
            'disruptionBudget.minAvailable must be lower than replicas, otherwise no pod may ever be evicted and node drains block',
        },
      ],
    },
  );
}

const objectivePercent = (fallback: number): JsonSchema =>
  num('Share of good events, in percent (e.g. 99.9).', {
    default: fallback,
    'x-kubernetes-validations': [
      {
        rule: 'self > 0.0 && self < 100.0',
        message: 'objectivePercent must be above 0 and below 100 (100% would leave no error budget)',
      },
    ],
  });
const objective = (what: string, fallback: number): JsonSchema =>
  obj(what, { objectivePercent: objectivePercent(fallback) }, { default: {} });

const FLAG_NAME_RULE = {
  rule: "self.all(k, k.matches('^[a-zA-Z][a-zA-Z0-9_.-]*$'))",
  message: 'feature flag names start with a letter and use letters, digits, _, . or -',
};

const specSchema: JsonSchema = obj(
  'Desired state of one chat platform installation.',
  {
    image: obj(
      'Container images. Each component runs <repository>/<component>:<version>.',
      {
        repository: str('Image repository prefix.', { default: 'ghcr.io/chatcluster', minLength: 1 }),
        version: str('Image tag of every component, e.g. 1.4.2.', {
          minLength: 1,
          maxLength: 128,
          pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$',
        }),
        pullPolicy: str('Image pull policy.', {
          default: 'IfNotPresent',
          enum: ['Always', 'IfNotPresent', 'Never'],
        }),
        pullSecrets: {
          type: 'array',
          description: 'Names of image pull Secrets.',
          items: { type: 'string' },
          maxItems: 10,
        },
      },
      { required: ['version'] },
    ),
    paused: bool(
      'Stop reconciling: children are neither created, updated nor pruned while true. Status is still reported.',
      false,
    ),
    components: obj(
      'Per-component settings.',
      Object.fromEntries(COMPONENTS.map((c) => [c, componentSchema(c)])),
      { default: {} },
    ),
    rollout: obj(
      'How new versions are rolled out.',
      {
        strategy: str(
          'Canary uses an Argo Rollouts Rollout gated by analysis; RollingUpdate a plain Deployment. Canary falls back to RollingUpdate when Argo Rollouts is not installed.',
          { default: 'Canary', enum: ['Canary', 'RollingUpdate'] },
        ),
        canary: obj(
          'Canary steps and the analysis that rolls back a bad version by itself.',
          {
            steps: {
              type: 'array',
              description:
                'Weights in percent of pods on the new version, each held for pauseSeconds. Default 5% for 15 min, 50% for 10 min, then 100%.',
              minItems: 1,
              maxItems: 10,
              default: [
                { setWeight: 5, pauseSeconds: 900 },
                { setWeight: 50, pauseSeconds: 600 },
                { setWeight: 100 },
              ],
              items: obj(
                'One canary step.',
                {
                  setWeight: int('Percent of pods on the new version.', { minimum: 1, maximum: 100 }),
                  pauseSeconds: int(
                    'How long to hold this weight before the next step; unset or 0 moves on once the pods are ready.',
                    {
                      minimum: 0,
                      maximum: 86400,
                    },
                  ),
                },
                { required: ['setWeight'] },
              ),
              'x-kubernetes-validations': [
                {
                  rule: 'self.map(s, s.setWeight).isSorted()',
                  message: 'canary step weights must not decrease (e.g. 5, 50, 100)',
                },
              ],
            },
            analysis: obj(
              'Automatic rollback thresholds, checked against Prometheus while the canary runs.',
              {
                enabled: bool('Run analysis during the canary.', true),
                intervalSeconds: int('How often to measure.', { default: 60, minimum: 10, maximum: 3600 }),
                failureLimit: int('Failed measurements tolerated before rolling back.', {
                  default: 1,
                  minimum: 0,
                  maximum: 100,
                }),
                maxErrorRatePercent: num('Roll back when the canary answers more than this share of 5xx.', {
                  default: 5,
                  'x-kubernetes-validations': [
                    {
                      rule: 'self > 0.0 && self <= 100.0',
                      message: 'maxErrorRatePercent must be a percentage above 0 and at most 100',
                    },
                  ],
                }),
                maxLatencyP95Ratio: num(
                  'Roll back when the canary p95 latency exceeds this multiple of the stable version p95.',
                  {
                    default: 2,
                    'x-kubernetes-validations': [
                      {
                        rule: 'self >= 1.0',
                        message: 'maxLatencyP95Ratio must be at least 1 (1 = as fast as stable)',
                      },
                    ],
                  },
                ),
                maxBurnRate: num(
                  'Roll back when the canary burns the SLO error budget faster than this factor.',
                  {
                    default: 14.4,
                    'x-kubernetes-validations': [
                      { rule: 'self > 0.0', message: 'maxBurnRate must be above 0' },
                    ],
                  },
                ),
                minimumEvents: int(
                  "Fewest requests, sends or deliveries of the canary's pods in a measurement's window for it to count. Fewer make the measurement Inconclusive: the Rollout pauses for a person instead of passing an idle canary. Default 100: one bad event in 100 (1 %) fails no default gate.",
                  { default: 100, minimum: 1, maximum: 1000000 },
                ),
              },
              { default: {} },
            ),
          },
          { default: {} },
        ),
      },
      { default: {} },
    ),
    dataStores: obj(
      'Data-store connections. Each Secret holds a connection string (by default under the key url).',
      {
        postgres: obj(
          'PostgreSQL, used by auth.',
          { secretRef: secretKeyRef('the PostgreSQL URL', 'url') },
          {
            required: ['secretRef'],
          },
        ),
        mongodb: obj(
          'MongoDB, used by message.',
          { secretRef: secretKeyRef('the MongoDB URL', 'url') },
          {
            required: ['secretRef'],
          },
        ),
        redis: obj(
          'Redis, used by every component.',
          { secretRef: secretKeyRef('the Redis URL', 'url') },
          {
            required: ['secretRef'],
          },
        ),
      },
      { required: ['postgres', 'mongodb', 'redis'] },
    ),
    jwt: obj(
      'Access-token settings shared by auth (issuer) and the verifying services.',
      {
        issuer: str(
          'Issuer (iss) of access tokens. Immutable: changing it would invalidate every issued token.',
          {
            minLength: 1,
            maxLength: 253,
          },
        ),
        audience: str('Audience (aud) of access tokens.', {
          default: 'chatcluster',
          minLength: 1,
          maxLength: 253,
        }),
      },
      {
        required: ['issuer'],
        'x-kubernetes-validations': [
          {
            rule: 'self.issuer == oldSelf.issuer',
            message:
              'jwt.issuer is immutable: changing it would sign every user out at once; create a new ChatCluster instead',
          },
        ],
      },
    ),
    internalApiToken: obj(
      'Shared token for the internal API of auth (membership lookups by message and notification). When unset, the operator generates one into the Secret <name>-internal-api-token, once.',
      { secretRef: secretKeyRef('the internal API token', 'token') },
      { required: ['secretRef'] },
    ),
    keyEncryption: obj(
      "Key-encryption keys that seal auth's private signing keys at rest: the Secret's key `keys` holds id:base64 entries (32 bytes each, comma-separated), `activeKeyId` the one that seals (optional with one entry). Back it up apart from the database. When unset, the operator generates the Secret <name>-key-encryption, once, and keeps it when the ChatCluster is deleted.",
      { secretRef: secretName('the key-encryption keys (keys: keys, activeKeyId)') },
      { required: ['secretRef'] },
    ),
    ingress: obj(
      'Public HTTP and WebSocket entry.',
      {
        enabled: bool('Create an Ingress.', false),
        host: str('Host name clients connect to.', { maxLength: 253, pattern: DNS_NAME }),
        className: str('IngressClass name (e.g. nginx).'),
        tlsSecretName: str('TLS Secret for the host; no TLS when unset.', {
          maxLength: 253,
          pattern: DNS_NAME,
        }),
        sessionAffinity: obj(
          'Cookie session affinity, so a reconnecting WebSocket client returns to the same message pod.',
          {
            enabled: bool('Pin a client to one pod by cookie.', true),
            cookieName: str('Affinity cookie name.', {
              default: 'chatcluster-route',
              pattern: '^[A-Za-z0-9_-]+$',
            }),
            maxAgeSeconds: int('Affinity cookie lifetime.', { default: 3600, minimum: 60, maximum: 604800 }),
          },
          { default: {} },
        ),
      },
      {
        default: { enabled: false },
        'x-kubernetes-validations': [
          {
            rule: '!self.enabled || has(self.host)',
            message: 'ingress.host is required when ingress.enabled is true',
          },
        ],
      },
    ),
    chatPage: obj(
      'The sample chat page (a browser client of the SDK), served by the message service at / and routed by the Ingress. For trying a cluster out; real clients are apps.',
      { enabled: bool('Serve the chat page.', false) },
      { default: {} },
    ),
    notification: obj(
      'Notification providers. A provider without a Secret is off.',
      {
        fcm: obj(
          'Firebase Cloud Messaging (push).',
          {
            secretRef: secretName(
              'the keys projectId and serviceAccount (a Google service-account key file; the service fetches and refreshes its tokens) or accessToken (a fixed OAuth token, never refreshed)',
            ),
            baseUrl: str('FCM API base URL.', {
              default: 'https://fcm.googleapis.com',
              pattern: '^https?://',
            }),
          },
          { required: ['secretRef'] },
        ),
        sendgrid: obj(
          'SendGrid (e-mail).',
          {
            secretRef: secretName('the key apiKey'),
            baseUrl: str('SendGrid API base URL.', {
              default: 'https://api.sendgrid.com',
              pattern: '^https?://',
            }),
          },
          { required: ['secretRef'] },
        ),
      },
      { default: {} },
    ),
    slo: obj(
      'Service level objectives: compiled into burn-rate alerts (PrometheusRule) and the canary analysis.',
      {
        enabled: bool('Create the SLO alerts and gate canaries on them.', true),
        window: str('Rolling window the error budget is counted over.', {
          default: '30d',
          enum: ['30d', '28d'],
        }),
        messageDelivery: obj(
          'Messages delivered within the latency threshold.',
          {
            objectivePercent: objectivePercent(99.9),
            latencyThresholdSeconds: num('A delivery slower than this counts as bad.', {
              default: 0.5,
              enum: [0.2, 0.3, 0.5],
            }),
          },
          { default: {} },
        ),
        apiAvailability: objective('API requests answered without a 5xx.', 99.5),
        websocketStability: objective('WebSocket connections that do not end in an error.', 99.9),
        notificationSuccess: objective('Notifications sent successfully.', 95),
        authAvailability: objective('Auth requests answered without a 5xx.', 99.5),
      },
      { default: {} },
    ),
    featureFlags: {
      type: 'object',
      description:
        'Feature flags on or off. Written to a ConfigMap mounted as a file that the services reload live: flipping one does not restart pods.',
      additionalProperties: { type: 'boolean' },
      maxProperties: 200,
      default: {},
      'x-kubernetes-validations': [FLAG_NAME_RULE],
    },
    featureFlagPercentages: {
      type: 'object',
      description:
        'Feature flags rolled out gradually: the percentage (0-100) of users or channels that get the feature. Reloaded live like featureFlags.',
      additionalProperties: { type: 'integer', minimum: 0, maximum: 100 },
      maxProperties: 200,
      default: {},
      'x-kubernetes-validations': [FLAG_NAME_RULE],
    },
    terminationGracePeriodSeconds: int(
      'Time a pod gets to drain WebSockets and in-flight work after SIGTERM before it is killed.',
      { default: 90, minimum: 10, maximum: 3600 },
    ),
    preStopDelaySeconds: int(
      'Wait before SIGTERM, so load balancers stop sending new connections first. Part of the grace period.',
      { default: 10, minimum: 0, maximum: 600 },
    ),
    monitoring: obj(
      'Prometheus Operator objects (ServiceMonitor, PrometheusRule). Skipped when the Prometheus Operator is not installed.',
      {
        enabled: bool('Create monitoring objects.', true),
        interval: str('Scrape interval.', { default: '30s', pattern: '^[0-9]+(ms|s|m)$' }),
        prometheusAddress: str('Prometheus URL the canary analysis queries.', {
          default: 'http://prometheus-operated.monitoring.svc:9090',
          pattern: '^https?://',
        }),
        labels: {
          type: 'object',
          description: 'Extra labels on ServiceMonitor and PrometheusRule, for a Prometheus selector.',
          additionalProperties: { type: 'string' },
        },
      },
      { default: {} },
    ),
    networkPolicy: obj(
      'NetworkPolicies admitting only the ingress controller, Prometheus and the components themselves.',
      {
        enabled: bool('Create NetworkPolicies.', true),
        ingressControllerNamespace: str('Namespace of the ingress controller.', { default: 'ingress-nginx' }),
        monitoringNamespace: str('Namespace of Prometheus.', { default: 'monitoring' }),
      },
      { default: {} },
    ),
  },
  {
    required: ['image', 'dataStores', 'jwt'],
    'x-kubernetes-validations': [
      {
        rule: '!has(self.featureFlags) || !has(self.featureFlagPercentages) || self.featureFlagPercentages.all(k, !(k in self.featureFlags))',
        message:
          'a feature flag is either on/off (featureFlags) or a percentage (featureFlagPercentages), not both',
      },
      {
        // Background analysis does not hold a step until it has judged it: the step must be long enough.
        rule: "self.rollout.strategy != 'Canary' || !self.rollout.canary.analysis.enabled || self.rollout.canary.steps.all(s, s.setWeight >= 100 || (has(s.pauseSeconds) && s.pauseSeconds >= (self.rollout.canary.analysis.failureLimit + 1) * self.rollout.canary.analysis.intervalSeconds))",
        message:
          'with canary analysis on, every step below 100 % needs pauseSeconds of at least (analysis.failureLimit + 1) * analysis.intervalSeconds, or the step could end before the analysis has judged it',
      },
      ...COMPONENTS.map((c) => ({
        rule: `self.rollout.strategy != 'Canary' || self.components.${c}.autoscaling.enabled || self.rollout.canary.steps.all(s, s.setWeight >= 100 || s.setWeight * (self.components.${c}.replicas + 1) >= 100)`,
        message: `components.${c}.replicas cannot honour a canary weight below 100 / (replicas + 1) %: without traffic routing a weight is a share of pods and Argo Rollouts runs at least one canary pod (docs/architecture.md, "Canary weights")`,
      })),
      {
        rule: 'self.preStopDelaySeconds < self.terminationGracePeriodSeconds',
        message:
          'preStopDelaySeconds must be shorter than terminationGracePeriodSeconds, or pods get no time to drain after SIGTERM',
      },
    ],
  },
);

const conditionSchema: JsonSchema = obj(
  'One aspect of the current state.',
  {
    type: str('Ready, Progressing, Degraded or Fallback.'),
    status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    reason: str('Machine-readable reason in CamelCase.'),
    message: str('Human-readable explanation.'),
    observedGeneration: int('metadata.generation the condition was computed from.', { format: 'int64' }),
    lastTransitionTime: str('When status last changed.', { format: 'date-time' }),
  },
  { required: ['type', 'status', 'lastTransitionTime'] },
);

const componentStatusSchema: JsonSchema = obj('Replica counts of one component.', {
  replicas: int('Desired pods.'),
  readyReplicas: int('Ready pods.'),
  updatedReplicas: int('Pods on the current version.'),
  workload: str('Deployment or Rollout.'),
  rolloutPhase: str('Phase reported by the Argo Rollout, when one is used.'),
});

const statusSchema: JsonSchema = obj('Observed state, written by the operator.', {
  observedGeneration: int('metadata.generation last reconciled.', { format: 'int64' }),
  phase: str('Pending, Progressing, Ready, Degraded or Paused.'),
  conditions: {
    type: 'array',
    description: 'Ready, Progressing, Degraded and Fallback.',
    items: conditionSchema,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  },
  components: obj(
    'Per-component replica counts and rollout phase.',
    Object.fromEntries(COMPONENTS.map((c) => [c, componentStatusSchema])),
  ),
});

export function chatClusterCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'chatcluster' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: 'chatcluster',
        shortNames: ['chat'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            {
              name: 'Message replicas',
              type: 'integer',
              jsonPath: '.status.components.message.readyReplicas',
              description: 'Ready pods of the message service',
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: obj(
              `A ChatCluster (${API_VERSION}) runs the chat platform: auth, message and notification services with probes, disruption budgets, autoscaling, SLO-gated canaries and burn-rate alerts.`,
              {
                apiVersion: str('API version of this object.'),
                kind: str('Kind of this object.'),
                metadata: { type: 'object' },
                spec: specSchema,
                status: statusSchema,
              },
              { required: ['spec'] },
            ),
          },
        },
      ],
    },
  };
}

/** The openAPIV3Schema of the one served version, for defaulting (defaults.ts). */
export function chatClusterSchema(): JsonSchema {
  const crd = chatClusterCrd() as {
    spec: { versions: { schema: { openAPIV3Schema: JsonSchema } }[] };
  };
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}
