import { expect } from 'chai';
import { isSubset, isUpToDate, parseQuantity } from '../../src/controller/compare.js';
import { ALL_CAPABILITIES } from '../../src/specs/capabilities.js';
import { desiredObjects } from '../../src/specs/desired-state.js';
import { DESIRED_HASH_ANNOTATION, type KubeObject } from '../../src/specs/meta.js';
import { sampleCluster } from '../support/sample-cluster.js';

const deployment = () =>
  desiredObjects(sampleCluster(), ALL_CAPABILITIES).find((o) => o.kind === 'Deployment')!;

/** What the API server returns: the applied object plus defaults and server fields. */
function asServerReturns(object: KubeObject): KubeObject {
  const copy = structuredClone(object) as KubeObject & {
    spec: { template: { spec: Record<string, unknown> } };
  };
  copy.metadata.resourceVersion = '42';
  copy.metadata.uid = 'abc';
  copy.spec.template.spec.dnsPolicy = 'ClusterFirst';
  copy.spec.template.spec.restartPolicy = 'Always';
  (copy as Record<string, unknown>).status = { replicas: 0 };
  return copy;
}

describe('isUpToDate', () => {
  it('is true for the object as the server returns it, with its defaults and status', () => {
    const desired = deployment();
    expect(isUpToDate(desired, asServerReturns(desired))).to.equal(true);
  });

  it('is false when the object does not exist', () => {
    expect(isUpToDate(deployment(), undefined)).to.equal(false);
  });

  it('is false when someone edited an owned field by hand', () => {
    const desired = deployment();
    const observed = asServerReturns(desired) as KubeObject & { spec: { minReadySeconds: number } };
    observed.spec.minReadySeconds = 0;
    expect(isUpToDate(desired, observed)).to.equal(false);
  });

  it('is false when the desired hash differs, even if every desired field is present (a field was dropped)', () => {
    const desired = deployment();
    const observed = asServerReturns(desired);
    observed.metadata.annotations = { ...observed.metadata.annotations, [DESIRED_HASH_ANNOTATION]: 'older' };
    expect(isUpToDate(desired, observed)).to.equal(false);
  });

  it('is false when a container was removed, and true when someone added an extra env var', () => {
    const desired = deployment();
    const withoutContainer = asServerReturns(desired) as unknown as {
      spec: { template: { spec: { containers: unknown[] } } };
    };
    withoutContainer.spec.template.spec.containers = [];
    expect(isUpToDate(desired, withoutContainer as unknown as KubeObject)).to.equal(false);

    const extraEnv = asServerReturns(desired) as unknown as {
      spec: { template: { spec: { containers: { env: unknown[] }[] } } };
    };
    extraEnv.spec.template.spec.containers[0]!.env.push({ name: 'EXTRA', value: '1' });
    expect(isUpToDate(desired, extraEnv as unknown as KubeObject)).to.equal(true);
  });
});

describe('isSubset', () => {
  it('compares quantities by value, as the API server normalises them', () => {
    expect(isSubset({ cpu: '0.5' }, { cpu: '500m' })).to.equal(true);
    expect(isSubset({ memory: '1Gi' }, { memory: '1024Mi' })).to.equal(true);
    expect(isSubset({ cpu: '1' }, { cpu: '100m' })).to.equal(false);
    expect(isSubset({ image: 'a:1.4.2' }, { image: 'a:1.4.3' })).to.equal(false);
  });

  it('requires the same values in lists without names, in order', () => {
    expect(isSubset({ args: ['a', 'b'] }, { args: ['a', 'b'] })).to.equal(true);
    expect(isSubset({ args: ['a', 'b'] }, { args: ['b', 'a'] })).to.equal(false);
    expect(isSubset({ args: ['a'] }, { args: ['a', 'b'] })).to.equal(false);
  });

  it('distinguishes numbers from strings and missing values', () => {
    expect(isSubset({ port: 8080 }, { port: '8080' })).to.equal(false);
    expect(isSubset({ a: { b: 1 } }, {})).to.equal(false);
    expect(isSubset({ a: false }, { a: false })).to.equal(true);
  });

  it('parses quantities', () => {
    expect(parseQuantity('250m')).to.equal(0.25);
    expect(parseQuantity('64Mi')).to.equal(64 * 1024 * 1024);
    expect(parseQuantity('1.5')).to.equal(1.5);
    expect(parseQuantity('1.4.2')).to.equal(undefined);
    expect(parseQuantity('http')).to.equal(undefined);
  });
});
