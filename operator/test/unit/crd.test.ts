import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { chatClusterCrd, chatClusterSchema, type JsonSchema } from '../../src/api/chatcluster-crd.js';
import { defaultedSpec } from '../../src/api/defaults.js';
import { generatedFiles } from '../../src/generated-files.js';
import { MINIMAL_SPEC } from '../support/sample-cluster.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Every property path of the schema, with its schema. */
function walk(schema: JsonSchema, path = ''): [string, JsonSchema][] {
  const out: [string, JsonSchema][] = [];
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    out.push([`${path}.${key}`, prop], ...walk(prop, `${path}.${key}`));
  }
  if (schema.items) out.push(...walk(schema.items, `${path}[]`));
  return out;
}

describe('ChatCluster CRD', () => {
  it('is generated: the files in crds/, the chart and the embedded SLO definitions are up to date', async () => {
    const files = await generatedFiles(repoRoot);
    expect(files.size).to.equal(3);
    for (const [path, expected] of files) {
      expect(
        readFileSync(join(repoRoot, path), 'utf8'),
        `${path} is stale: run operator/dist/src/generate.js`,
      ).to.equal(expected);
    }
  });

  it('names the kind as asked: chatcluster.io/v1alpha1 ChatCluster, plural chatclusters, short name chat', () => {
    const crd = chatClusterCrd() as {
      metadata: { name: string };
      spec: {
        group: string;
        scope: string;
        names: Record<string, unknown>;
        versions: Record<string, unknown>[];
      };
    };
    expect(crd.metadata.name).to.equal('chatclusters.chatcluster.io');
    expect(crd.spec.group).to.equal('chatcluster.io');
    expect(crd.spec.scope).to.equal('Namespaced');
    expect(crd.spec.names).to.include({ kind: 'ChatCluster', plural: 'chatclusters' });
    expect(crd.spec.names.shortNames).to.deep.equal(['chat']);
    expect(crd.spec.versions).to.have.length(1);
    expect(crd.spec.versions[0]).to.include({ name: 'v1alpha1', served: true, storage: true });
    expect(crd.spec.versions[0]!.subresources).to.deep.equal({ status: {} });
  });

  it('prints Ready, Phase, Message replicas and Age', () => {
    const version = (
      chatClusterCrd() as {
        spec: { versions: { additionalPrinterColumns: { name: string; jsonPath: string }[] }[] };
      }
    ).spec.versions[0]!;
    expect(version.additionalPrinterColumns.map((c) => c.name)).to.deep.equal([
      'Ready',
      'Phase',
      'Message replicas',
      'Age',
    ]);
    expect(version.additionalPrinterColumns[0]!.jsonPath).to.equal(
      '.status.conditions[?(@.type=="Ready")].status',
    );
  });

  it('describes every spec field, so kubectl explain has something to show', () => {
    const undocumented = walk(chatClusterSchema().properties!.spec!, 'spec')
      .filter(([, s]) => !s.description)
      .map(([path]) => path);
    expect(undocumented).to.deep.equal([]);
  });

  it('gives every CEL rule a message a person understands', () => {
    const rules = walk(chatClusterSchema(), '').flatMap(([path, s]) =>
      (s['x-kubernetes-validations'] ?? []).map((rule) => ({ path, ...rule })),
    );
    expect(rules.length).to.be.greaterThanOrEqual(10);
    for (const rule of rules) {
      const text = rule.message ?? rule.messageExpression ?? '';
      expect(text.length, `${rule.path}: ${rule.rule}`).to.be.greaterThan(20);
    }
    // Cross-field, percentage and immutability rules are all there.
    const all = rules.map((r) => r.rule).join('\n');
    expect(all).to.include('self.minReplicas <= self.maxReplicas');
    expect(all).to.include('self.issuer == oldSelf.issuer');
    expect(all).to.include('self > 0.0 && self <= 100.0');
    expect(all).to.include('isSorted()');
  });

  it('defaults what the reviews ask for from a minimal spec', () => {
    const spec = defaultedSpec(MINIMAL_SPEC);
    expect(spec.terminationGracePeriodSeconds).to.equal(90);
    expect(spec.paused).to.equal(false);
    expect(spec.rollout.strategy).to.equal('Canary');
    expect(spec.rollout.canary.steps).to.deep.equal([
      { setWeight: 5, pauseSeconds: 900 },
      { setWeight: 50, pauseSeconds: 600 },
      { setWeight: 100 },
    ]);
    expect(spec.rollout.canary.analysis).to.include({ maxErrorRatePercent: 5, maxLatencyP95Ratio: 2 });
    for (const component of ['auth', 'message', 'notification'] as const) {
      expect(spec.components[component].autoscaling).to.include({
        enabled: true,
        targetCPUUtilizationPercentage: 70,
      });
      expect(spec.components[component].resources.requests.cpu).to.be.a('string');
      expect(spec.components[component].resources.limits?.memory).to.be.a('string');
    }
    expect(spec.slo.messageDelivery).to.deep.equal({ objectivePercent: 99.9, latencyThresholdSeconds: 0.5 });
    expect(spec.slo.apiAvailability.objectivePercent).to.equal(99.5);
    expect(spec.dataStores.redis.secretRef).to.deep.equal({ name: 'chat-redis', key: 'url' });
    expect(spec.jwt.audience).to.equal('chatcluster');
    expect(spec.ingress.sessionAffinity.enabled).to.equal(true);
  });

  it('keeps what a person set and fills only the rest', () => {
    const spec = defaultedSpec({
      ...MINIMAL_SPEC,
      components: { message: { replicas: 7, resources: { requests: { cpu: '1' } } } },
    });
    expect(spec.components.message.replicas).to.equal(7);
    expect(spec.components.message.resources.requests).to.deep.equal({ cpu: '1', memory: '256Mi' });
    expect(spec.components.auth.replicas).to.equal(2);
  });
});
