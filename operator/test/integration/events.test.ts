// Events aggregate on a real API server, as client-go's recorder does: the same event recorded again
// bumps count and lastTimestamp of one Event; a different message is its own Event; a repeat of an
// Event the server has since removed (expired) starts a new one.
import { expect } from 'chai';
import type { ChatCluster } from '../../src/api/types.js';
import { EventRecorder } from '../../src/controller/events.js';
import { KubeClient } from '../../src/kube/client.js';
import { EVENT } from '../../src/kube/resources.js';
import { chatCluster, createNamespace, startTestCluster, type TestCluster } from '../support/test-cluster.js';

interface CoreEvent {
  metadata: { name: string };
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
}

describe('Events aggregated on a real API server', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let ns: string;
  let owner: ChatCluster;
  let recorder: EventRecorder;
  const errors: unknown[] = [];

  const events = async () =>
    (await cluster.admin.list<CoreEvent>(EVENT, ns)).items.sort((a, b) => a.message.localeCompare(b.message));

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: false });
    ns = await createNamespace(cluster.admin);
    owner = await cluster.admin.create<ChatCluster>(chatCluster(ns, 'chat'));
    const client = new KubeClient(cluster.api.kubeConfig, { fieldManager: 'chatcluster-operator' });
    recorder = new EventRecorder(client, 'test-replica', (err) => errors.push(err));
  });

  after(async function () {
    this.timeout(60_000);
    await cluster?.stop();
  });

  it('writes one Event with count 5 for the same event recorded 5 times', async () => {
    const drift = {
      type: 'Warning',
      reason: 'DriftCorrected',
      message: 'restored Deployment/chat-auth',
    } as const;
    await recorder.record(owner, drift);
    await new Promise((r) => setTimeout(r, 1100)); // timestamps have second precision
    // Concurrent repeats must not race into two Events.
    await Promise.all([1, 2, 3, 4].map(() => recorder.record(owner, drift)));
    const [event, ...others] = await events();
    expect(others, JSON.stringify(others)).to.have.length(0);
    expect(event).to.include({ reason: 'DriftCorrected', count: 5 });
    expect(Date.parse(event!.lastTimestamp)).to.be.greaterThan(Date.parse(event!.firstTimestamp));
    expect(errors).to.deep.equal([]);
  });

  it('writes a different message as its own Event', async () => {
    await recorder.record(owner, {
      type: 'Normal',
      reason: 'Updated',
      message: 'updated ConfigMap/chat-auth-config',
    });
    const all = await events();
    expect(all.map((e) => [e.reason, e.count])).to.deep.equal([
      ['DriftCorrected', 5],
      ['Updated', 1],
    ]);
  });

  it('starts a new Event when the one it counted on has expired', async () => {
    const [drift] = await events();
    await cluster.admin.delete(EVENT, ns, drift!.metadata.name);
    await recorder.record(owner, {
      type: 'Warning',
      reason: 'DriftCorrected',
      message: 'restored Deployment/chat-auth',
    });
    const again = (await events()).find((e) => e.reason === 'DriftCorrected');
    expect(again).to.include({ count: 1 });
    expect(again!.metadata.name).to.not.equal(drift!.metadata.name);
    expect(errors).to.deep.equal([]);
  });
});
