// The ChatCluster CRD as the real API server enforces it: structural schema, defaults, CEL rules with
// their messages, the immutable issuer, and what `kubectl explain` shows.
import { expect } from 'chai';
import { KubeApiError } from '../../src/kube/client.js';
import { CHATCLUSTER } from '../../src/kube/resources.js';
import {
  chatCluster,
  createNamespace,
  startTestCluster,
  type ObjectWithMeta,
  type TestCluster,
} from '../support/test-cluster.js';

const INVALID: { what: string; spec: Record<string, unknown>; message: string }[] = [
  {
    what: 'autoscaling minReplicas above maxReplicas',
    spec: {
      components: {
        message: {
          autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2, targetCPUUtilizationPercentage: 70 },
        },
      },
    },
    message: 'autoscaling.minReplicas must not be greater than autoscaling.maxReplicas',
  },
  {
    what: 'canary weights going down',
    spec: { rollout: { canary: { steps: [{ setWeight: 50 }, { setWeight: 5 }] } } },
    message: 'canary step weights must not decrease',
  },
  {
    what: 'an error-rate threshold above 100 %',
    spec: { rollout: { canary: { analysis: { maxErrorRatePercent: 150 } } } },
    message: 'maxErrorRatePercent must be a percentage above 0 and at most 100',
  },
  {
    what: 'an SLO objective of 100 %',
    spec: { slo: { apiAvailability: { objectivePercent: 100 } } },
    message: 'objectivePercent must be above 0 and below 100',
  },
  {
    what: 'both minAvailable and maxUnavailable',
    spec: { components: { auth: { disruptionBudget: { minAvailable: 1, maxUnavailable: 1 } } } },
    message: 'disruptionBudget: set either minAvailable or maxUnavailable, not both',
  },
  {
    what: 'a percentage above 100 %',
    spec: { components: { auth: { disruptionBudget: { maxUnavailable: '150%' } } } },
    message: 'maxUnavailable must be a non-negative whole number or a percentage from 0% to 100%',
  },
  {
    what: 'minAvailable equal to a fixed replica count',
    spec: {
      components: {
        auth: {
          replicas: 2,
          autoscaling: {
            enabled: false,
            minReplicas: 2,
            maxReplicas: 10,
            targetCPUUtilizationPercentage: 70,
          },
          disruptionBudget: { minAvailable: 2 },
        },
      },
    },
    message: 'disruptionBudget.minAvailable must be lower than replicas',
  },
  {
    what: 'an ingress without a host',
    spec: { ingress: { enabled: true } },
    message: 'ingress.host is required when ingress.enabled is true',
  },
  {
    what: 'a preStop delay as long as the grace period',
    spec: { terminationGracePeriodSeconds: 30, preStopDelaySeconds: 30 },
    message: 'preStopDelaySeconds must be shorter than terminationGracePeriodSeconds',
  },
  {
    what: 'a flag both on/off and a percentage',
    spec: { featureFlags: { reactions: true }, featureFlagPercentages: { reactions: 10 } },
    message:
      'a feature flag is either on/off (featureFlags) or a percentage (featureFlagPercentages), not both',
  },
  {
    what: 'a canary step too short for the analysis to judge it (default 60 s interval, 1 failure tolerated)',
    spec: {
      rollout: { canary: { steps: [{ setWeight: 5, pauseSeconds: 119 }, { setWeight: 100 }] } },
    },
    message: 'every step below 100 % needs pauseSeconds of at least (analysis.failureLimit + 1)',
  },
  {
    what: 'an analysed canary step below 100 % that is not held at all',
    spec: {
      rollout: {
        canary: {
          steps: [{ setWeight: 50 }, { setWeight: 100 }],
          analysis: { intervalSeconds: 10, failureLimit: 0 },
        },
      },
    },
    message: 'every step below 100 % needs pauseSeconds of at least (analysis.failureLimit + 1)',
  },
  {
    what: 'a 5 % step with 3 fixed message pods (one canary pod is a quarter of them)',
    spec: {
      components: { message: { replicas: 3, autoscaling: { enabled: false } } },
      rollout: { canary: { steps: [{ setWeight: 5, pauseSeconds: 900 }, { setWeight: 100 }] } },
    },
    message: 'components.message.replicas cannot honour a canary weight below 100 / (replicas + 1) %',
  },
  {
    what: 'a minimum of events of 0 (schema minimum)',
    spec: { rollout: { canary: { analysis: { minimumEvents: 0 } } } },
    message: 'spec.rollout.canary.analysis.minimumEvents',
  },
  {
    what: 'an unknown log level (schema enum)',
    spec: { components: { auth: { logLevel: 'loud' } } },
    message: 'Unsupported value: "loud"',
  },
  {
    what: 'a CPU request that is not a quantity (schema pattern)',
    spec: { components: { auth: { resources: { requests: { cpu: 'lots' } } } } },
    message: 'spec.components.auth.resources.requests.cpu',
  },
];

describe('ChatCluster validation by the real API server', function () {
  let cluster: TestCluster;
  let ns: string;

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: false });
    ns = await createNamespace(cluster.admin);
  });

  after(async function () {
    this.timeout(60_000);
    await cluster?.stop();
  });

  const rejection = (object: unknown) =>
    cluster.admin.create(object as never).then(
      () => {
        throw new Error('the API server accepted it');
      },
      (err: unknown) => err,
    );

  for (const { what, spec, message } of INVALID) {
    it(`rejects ${what} with a message a person understands`, async () => {
      const err = await rejection(chatCluster(ns, 'invalid', spec));
      expect(err).to.be.instanceOf(KubeApiError);
      expect((err as KubeApiError).status).to.equal(422);
      expect((err as KubeApiError).message).to.include(message);
    });
  }

  it('accepts canary steps the analysis can judge and the replica counts can honour', async () => {
    const accepted = [
      // Short test steps: 10 s measurements, no failure tolerated, each step held 10 s.
      {
        components: { message: { replicas: 2, autoscaling: { enabled: false } } },
        rollout: {
          canary: {
            steps: [{ setWeight: 50, pauseSeconds: 10 }, { setWeight: 100 }],
            analysis: { intervalSeconds: 10, failureLimit: 0 },
          },
        },
      },
      // 20 fixed pods honour 5 %; analysis off needs no pause.
      {
        components: { message: { replicas: 20, autoscaling: { enabled: false } } },
        rollout: { canary: { steps: [{ setWeight: 5 }, { setWeight: 100 }], analysis: { enabled: false } } },
      },
      // A rolling update has no canary steps to check.
      {
        components: { auth: { replicas: 1, autoscaling: { enabled: false } } },
        rollout: { strategy: 'RollingUpdate', canary: { steps: [{ setWeight: 5 }] } },
      },
    ];
    for (const [i, spec] of accepted.entries()) {
      const created = await cluster.admin.create<ObjectWithMeta>(chatCluster(ns, `steps-${i}`, spec));
      expect(created.metadata.uid, JSON.stringify(spec)).to.be.a('string');
    }
  });

  it('rejects a ChatCluster without the required fields, naming them', async () => {
    const err = (await rejection({
      apiVersion: 'chatcluster.io/v1alpha1',
      kind: 'ChatCluster',
      metadata: { name: 'empty', namespace: ns },
      spec: {},
    })) as KubeApiError;
    expect(err.message).to.include('spec.image: Required value');
    expect(err.message).to.include('spec.dataStores: Required value');
    expect(err.message).to.include('spec.jwt: Required value');
  });

  it('accepts a minimal ChatCluster and stores it with every default', async () => {
    const created = await cluster.admin.create<ObjectWithMeta>(chatCluster(ns, 'minimal'));
    const spec = created.spec as Record<string, Record<string, unknown>>;
    expect(spec.terminationGracePeriodSeconds).to.equal(90);
    expect(spec.rollout!.strategy).to.equal('Canary');
    expect((spec.components!.message as { autoscaling: unknown }).autoscaling).to.deep.equal({
      enabled: true,
      minReplicas: 3,
      maxReplicas: 20,
      targetCPUUtilizationPercentage: 70,
    });
    expect((spec.rollout!.canary as { steps: unknown[] }).steps).to.have.length(3);
  });

  it('refuses to change jwt.issuer once set', async () => {
    await cluster.admin.create(chatCluster(ns, 'issuer'));
    const err = await cluster.admin
      .mergePatch(CHATCLUSTER, ns, 'issuer', { spec: { jwt: { issuer: 'https://other.example.com' } } })
      .then(
        () => undefined,
        (e: unknown) => e as KubeApiError,
      );
    expect(err?.status).to.equal(422);
    expect(err?.message).to.include('jwt.issuer is immutable');
    // Other fields stay editable.
    await cluster.admin.mergePatch(CHATCLUSTER, ns, 'issuer', { spec: { jwt: { audience: 'mobile' } } });
  });

  it('lets kubectl explain the fields, with their descriptions', async () => {
    const explained = await cluster.api.kubectl([
      'explain',
      'chatcluster.spec.terminationGracePeriodSeconds',
    ]);
    expect(explained.code, explained.stderr).to.equal(0);
    expect(explained.stdout).to.include('drain WebSockets');
    const short = await cluster.api.kubectl(['explain', 'chat.spec.rollout.canary.steps']);
    expect(short.code, short.stderr).to.equal(0);
    expect(short.stdout).to.include('5% for 15 min');
  });

  it('prints the Ready, Phase, Message replicas and Age columns', async () => {
    const printed = await cluster.api.kubectl(['get', 'chat', '-n', ns]);
    expect(printed.code, printed.stderr).to.equal(0);
    expect(printed.stdout.split('\n')[0]).to.match(/^NAME\s+READY\s+PHASE\s+MESSAGE REPLICAS\s+AGE/);
  });
});
