import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiException, CustomObjectsApi, Watch, dumpYaml } from '@kubernetes/client-node';
import {
  createTempDir,
  installCrds,
  removeTempDir,
  startKubeApiServer,
  thirdPartyCrdFiles,
} from '../src/index.js';
import type { KubeApiServer } from '../src/index.js';
import { expectProcessGone, waitFor } from './support.js';

const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.harness.chatcluster.io' },
  spec: {
    group: 'harness.chatcluster.io',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { size: { type: 'integer', minimum: 1 } },
                required: ['size'],
              },
            },
          },
        },
      },
    ],
  },
};

/** The HTTP status of a rejected API call (422 for a schema violation). */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describe('harness: kube-apiserver', function () {
  let kube: KubeApiServer | undefined;
  let objects: CustomObjectsApi;
  let dir: string;

  before(async () => {
    dir = createTempDir('kube-test');
    kube = await startKubeApiServer();
    objects = kube.kubeConfig.makeApiClient(CustomObjectsApi);
  });
  after(async () => {
    await kube?.stop();
    await removeTempDir(dir);
  });

  it('is ready, with an admin kubeconfig that kubectl accepts', async () => {
    expect(kube!.server).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    const readyz = await kube!.kubectl(['get', '--raw', '/readyz']);
    expect(readyz.code, readyz.stderr).to.equal(0);
    expect(readyz.stdout.trim()).to.equal('ok');
    const whoAmI = await kube!.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}']);
    expect(whoAmI.stdout, whoAmI.stderr).to.include('system:masters');
  });

  it('installs a CRD and streams ADDED then MODIFIED for its objects', async () => {
    const file = join(dir, 'widget-crd.yaml');
    await writeFile(file, dumpYaml(widgetCrd));
    expect(await installCrds(kube!.kubeConfig, [file])).to.deep.equal(['widgets.harness.chatcluster.io']);

    const resource = {
      group: 'harness.chatcluster.io',
      version: 'v1',
      namespace: 'default',
      plural: 'widgets',
    };
    const events: string[] = [];
    let watchError: unknown;
    const watch = await new Watch(kube!.kubeConfig).watch(
      '/apis/harness.chatcluster.io/v1/namespaces/default/widgets',
      {},
      (phase, object: { metadata: { name: string } }) => events.push(`${phase} ${object.metadata.name}`),
      (error: unknown) => {
        watchError = error;
      },
    );
    try {
      await objects.createNamespacedCustomObject({
        ...resource,
        body: {
          apiVersion: 'harness.chatcluster.io/v1',
          kind: 'Widget',
          metadata: { name: 'w1' },
          spec: { size: 1 },
        },
      });
      const current = (await objects.getNamespacedCustomObject({ ...resource, name: 'w1' })) as {
        spec: { size: number };
      };
      current.spec.size = 2;
      await objects.replaceNamespacedCustomObject({ ...resource, name: 'w1', body: current });
      await waitFor(
        'ADDED and MODIFIED events',
        () => {
          if (watchError) throw watchError as Error;
          return events.length >= 2 ? events : undefined;
        },
        10_000,
      );
      expect(events).to.deep.equal(['ADDED w1', 'MODIFIED w1']);
      expect(watchError).to.equal(undefined);
    } finally {
      watch.abort();
    }

    const invalid = objects.createNamespacedCustomObject({
      ...resource,
      body: {
        apiVersion: 'harness.chatcluster.io/v1',
        kind: 'Widget',
        metadata: { name: 'w0' },
        spec: { size: 0 },
      },
    });
    expect(await statusOf(invalid)).to.equal(422);
  });

  it('installs the Argo Rollouts and Prometheus Operator CRDs and validates against them', async () => {
    const names = await installCrds(kube!.kubeConfig, thirdPartyCrdFiles());
    expect(names).to.include.members(['rollouts.argoproj.io', 'prometheusrules.monitoring.coreos.com']);

    const rules = {
      group: 'monitoring.coreos.com',
      version: 'v1',
      namespace: 'default',
      plural: 'prometheusrules',
    };
    const rule = (name: string, alertRule: Record<string, unknown>): Record<string, unknown> => ({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name },
      spec: { groups: [{ name: 'chat', rules: [alertRule] }] },
    });
    const valid = rule('chat-alerts', {
      alert: 'ChatDown',
      expr: 'up == 0',
      for: '5m',
      labels: { severity: 'page' },
    });
    expect(await statusOf(objects.createNamespacedCustomObject({ ...rules, body: valid }))).to.equal(200);
    // A rule without `expr` breaks the CRD's schema.
    const invalid = rule('broken-alerts', { alert: 'NoExpression' });
    expect(await statusOf(objects.createNamespacedCustomObject({ ...rules, body: invalid }))).to.equal(422);

    const rollouts = { group: 'argoproj.io', version: 'v1alpha1', namespace: 'default', plural: 'rollouts' };
    const rollout = (name: string, setWeight: unknown): Record<string, unknown> => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'chat', image: 'example.invalid/chat:1' }] },
        },
        strategy: { canary: { steps: [{ setWeight }, { pause: { duration: '10s' } }] } },
      },
    });
    expect(
      await statusOf(objects.createNamespacedCustomObject({ ...rollouts, body: rollout('chat', 20) })),
    ).to.equal(200);
    expect(
      await statusOf(objects.createNamespacedCustomObject({ ...rollouts, body: rollout('bad', 'twenty') })),
    ).to.equal(422);
  });

  it('stops kube-apiserver and etcd', async () => {
    const { apiServerPid, etcdPid } = kube!;
    await kube!.stop();
    kube = undefined;
    await expectProcessGone(apiServerPid, 'kube-apiserver');
    await expectProcessGone(etcdPid, 'etcd');
  });
});
