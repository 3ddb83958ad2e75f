import { expect } from 'chai';
import { podTemplate } from '../../src/specs/pod-template.js';
import { CONFIG_CHECKSUM_ANNOTATION, FEATURE_FLAGS_DIR } from '../../src/specs/meta.js';
import { sampleCluster } from '../support/sample-cluster.js';

type Container = {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom: { configMapRef: { name: string } }[];
  startupProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  lifecycle?: { preStop: { sleep: { seconds: number } } };
  securityContext: Record<string, unknown>;
  resources: { requests: Record<string, string>; limits?: Record<string, string> };
  volumeMounts: { name: string; mountPath: string; subPath?: string }[];
};
type Pod = {
  metadata: { annotations: Record<string, string>; labels: Record<string, string> };
  spec: {
    terminationGracePeriodSeconds: number;
    automountServiceAccountToken: boolean;
    securityContext: Record<string, unknown>;
    topologySpreadConstraints: { topologyKey: string }[];
    containers: Container[];
    volumes: { name: string; configMap?: { name: string } }[];
  };
};

const pod = (
  spec: Record<string, unknown> = {},
  component: 'auth' | 'message' | 'notification' = 'message',
) => podTemplate(sampleCluster(spec), component) as unknown as Pod;

describe('pod template', () => {
  it('runs spec.image.version unless the component names its own version', () => {
    const spec = { image: { repository: 'registry.example/chat', version: '1.4.0' } };
    expect(pod(spec).spec.containers[0]!.image).to.equal('registry.example/chat/message:1.4.0');
    const released = { ...spec, components: { message: { version: '1.4.1-rc.1' } } };
    expect(pod(released).spec.containers[0]!.image).to.equal('registry.example/chat/message:1.4.1-rc.1');
    expect(pod(released, 'auth').spec.containers[0]!.image).to.equal('registry.example/chat/auth:1.4.0');
  });

  it('probes the kit health endpoints on the named port', () => {
    const c = pod().spec.containers[0]!;
    expect(c.ports).to.deep.equal([{ name: 'http', containerPort: 8082, protocol: 'TCP' }]);
    expect(c.startupProbe.httpGet).to.deep.equal({ path: '/health/liveness', port: 'http' });
    expect(c.livenessProbe.httpGet).to.deep.equal({ path: '/health/liveness', port: 'http' });
    expect(c.readinessProbe.httpGet).to.deep.equal({ path: '/health/readiness', port: 'http' });
  });

  it('uses each component port: auth 8081, notification 8083', () => {
    expect(pod({}, 'auth').spec.containers[0]!.ports[0]!.containerPort).to.equal(8081);
    expect(pod({}, 'notification').spec.containers[0]!.ports[0]!.containerPort).to.equal(8083);
  });

  it('waits before SIGTERM and gives the default 90 s grace period', () => {
    const p = pod();
    expect(p.spec.terminationGracePeriodSeconds).to.equal(90);
    expect(p.spec.containers[0]!.lifecycle).to.deep.equal({ preStop: { sleep: { seconds: 10 } } });
  });

  it('omits the preStop hook when the delay is 0', () => {
    expect(pod({ preStopDelaySeconds: 0 }).spec.containers[0]!.lifecycle).to.equal(undefined);
  });

  it('runs under the restricted Pod Security profile', () => {
    const p = pod();
    expect(p.spec.securityContext).to.deep.include({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(p.spec.containers[0]!.securityContext).to.deep.equal({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(p.spec.automountServiceAccountToken).to.equal(false);
  });

  it('requests resources and limits memory only', () => {
    const r = pod().spec.containers[0]!.resources;
    expect(r.requests).to.deep.equal({ cpu: '250m', memory: '256Mi' });
    expect(r.limits).to.deep.equal({ memory: '512Mi' });
  });

  it('spreads pods across zones and nodes', () => {
    expect(pod().spec.topologySpreadConstraints.map((t) => t.topologyKey)).to.deep.equal([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
  });

  it('reads each connection string from its Secret, and only the ones the component uses', () => {
    const secretEnv = (component: 'auth' | 'message' | 'notification') =>
      Object.fromEntries(
        pod({}, component)
          .spec.containers[0]!.env.filter((e) => e.valueFrom?.secretKeyRef)
          .map((e) => [e.name, e.valueFrom!.secretKeyRef]),
      );
    // The internal API token and the key-encryption keys come from the generated Secrets
    // (generated-secrets.test.ts).
    const token = { INTERNAL_API_TOKEN: { name: 'prod-internal-api-token', key: 'token' } };
    expect(secretEnv('auth')).to.deep.equal({
      POSTGRES_URL: { name: 'chat-postgres', key: 'url' },
      KEY_ENCRYPTION_KEYS: { name: 'prod-key-encryption', key: 'keys' },
      KEY_ENCRYPTION_KEY_ID: { name: 'prod-key-encryption', key: 'activeKeyId', optional: true },
      REDIS_URL: { name: 'chat-redis', key: 'url' },
      ...token,
    });
    expect(secretEnv('message')).to.deep.equal({
      MONGO_URL: { name: 'chat-mongodb', key: 'url' },
      REDIS_URL: { name: 'chat-redis', key: 'url' },
      ...token,
    });
    expect(Object.keys(secretEnv('notification'))).to.deep.equal(['REDIS_URL', 'INTERNAL_API_TOKEN']);
  });

  it('reads provider credentials from the notification Secrets under the documented keys', () => {
    const env = pod(
      { notification: { fcm: { secretRef: { name: 'fcm' } }, sendgrid: { secretRef: { name: 'sg' } } } },
      'notification',
    ).spec.containers[0]!.env;
    const refs = Object.fromEntries(
      env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom!.secretKeyRef]),
    );
    expect(refs).to.deep.include({
      FCM_PROJECT_ID: { name: 'fcm', key: 'projectId' },
      // Whichever the Secret has: a service-account key, or a fixed token.
      FCM_SERVICE_ACCOUNT_CREDENTIALS: { name: 'fcm', key: 'serviceAccount', optional: true },
      FCM_ACCESS_TOKEN: { name: 'fcm', key: 'accessToken', optional: true },
      SENDGRID_API_KEY: { name: 'sg', key: 'apiKey' },
    });
  });

  it('mounts the feature-flag ConfigMap as a directory (subPath mounts never update)', () => {
    const p = pod();
    const mount = p.spec.containers[0]!.volumeMounts.find((m) => m.name === 'feature-flags')!;
    expect(mount.mountPath).to.equal(FEATURE_FLAGS_DIR);
    expect(mount.subPath).to.equal(undefined);
    expect(p.spec.volumes.find((v) => v.name === 'feature-flags')!.configMap).to.deep.equal({
      name: 'prod-feature-flags',
    });
    expect(p.spec.containers[0]!.envFrom).to.deep.equal([{ configMapRef: { name: 'prod-message-config' } }]);
  });

  it('changes the config checksum when the configuration changes, so pods roll', () => {
    const before = pod().metadata.annotations[CONFIG_CHECKSUM_ANNOTATION];
    const after = pod({ components: { message: { logLevel: 'debug' } } }).metadata.annotations[
      CONFIG_CHECKSUM_ANNOTATION
    ];
    expect(before).to.match(/^[0-9a-f]{64}$/);
    expect(after).to.not.equal(before);
  });

  it('keeps the pod template identical when only feature flags change, so no pod restarts', () => {
    expect(pod({ featureFlags: { reactions: true } })).to.deep.equal(
      pod({ featureFlags: { reactions: false } }),
    );
  });
});
