// The platform team's everyday change, on the real cluster: `kubectl patch chatcluster … replicas`. The
// operator scales the message Rollout, Argo Rollouts its ReplicaSet, the scheduler places the new pod and
// the kubelet's readiness probe puts it behind the Service; scaling back removes it the same way.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import type { TestPlatform } from '../src/index.js';
import { sharedPlatform } from './support/shared-platform.js';

const replicasPatch = (replicas: number) =>
  JSON.stringify({ spec: { components: { message: { replicas } } } });

describe('e2e: scaling the message service through the ChatCluster', function () {
  this.timeout(240_000);
  let platform: TestPlatform;

  before(async function () {
    this.timeout(300_000);
    platform = await sharedPlatform();
  });

  const readyPods = async () =>
    (await platform.replicas('message')).filter((r) => r.ready && !r.deleting).map((r) => r.name);
  const readyInStatus = async () =>
    Number(
      await platform.kubectl([
        'get',
        'chatcluster',
        'chat',
        '-o',
        'jsonpath={.status.components.message.readyReplicas}',
      ]),
    );

  it('runs a third message pod after `kubectl patch chatcluster … replicas: 3`, and two again after 2', async () => {
    const before = await readyPods();
    expect(before).to.have.length(2);
    await platform.kubectl(['patch', 'chatcluster', 'chat', '--type=merge', '-p', replicasPatch(3)]);
    const three = await eventually(
      'three ready message pods, counted in the ChatCluster status',
      async () => {
        const pods = await readyPods();
        return pods.length === 3 && (await readyInStatus()) === 3 ? pods : undefined;
      },
      180_000,
      500,
    );
    expect(three).to.include.members(before);

    await platform.kubectl(['patch', 'chatcluster', 'chat', '--type=merge', '-p', replicasPatch(2)]);
    await eventually(
      'two message pods again',
      async () => (await platform.replicas('message')).length === 2 && (await readyInStatus()) === 2,
      180_000,
      500,
    );
  });
});
