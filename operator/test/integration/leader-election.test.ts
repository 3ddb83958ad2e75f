// Two operator replicas on one Lease: one leads and reconciles, the other waits without touching the
// API beyond the Lease, and takes over when the leader stops or its lease expires.
import { expect } from 'chai';
import type { Operator } from '../../src/controller/operator.js';
import { LEASE } from '../../src/kube/resources.js';
import {
  chatCluster,
  createNamespace,
  createSecrets,
  eventually,
  getObject,
  newOperator,
  startTestCluster,
  type TestCluster,
} from '../support/test-cluster.js';

interface Lease {
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

describe('leader election on a Lease', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let ns: string;
  const running: Operator[] = [];
  const start = (leaseName: string) => {
    const operator = newOperator(cluster, { leaseName });
    running.push(operator);
    operator.start();
    return operator;
  };

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: true });
    ns = await createNamespace(cluster.admin);
    await createSecrets(cluster.admin, ns);
  });

  after(async function () {
    this.timeout(60_000);
    for (const operator of running) await operator.stop();
    await cluster?.stop();
  });

  it('elects exactly one of two replicas; only the leader reconciles', async () => {
    const first = start('two-replicas');
    await eventually('a leader', () => first.isLeader);
    const second = start('two-replicas');
    await cluster.admin.create(chatCluster(ns, 'one'));
    await first.waitForIdle();
    await eventually('the Deployment', async () => getObject(cluster.admin, 'Deployment', ns, 'one-auth'));
    await new Promise((r) => setTimeout(r, 2500)); // more than two retry periods of the standby
    expect([first.isLeader, second.isLeader]).to.deep.equal([true, false]);
    expect(second.client.requestCount(), 'requests of the standby besides the Lease').to.equal(0);
    const lease = await cluster.admin.get<Lease>(LEASE, 'default', 'two-replicas');
    expect(lease.spec.holderIdentity).to.equal(
      (first as unknown as { options: { identity: string } }).options.identity,
    );
  });

  it('hands over at once when the leader stops gracefully', async () => {
    const [first, second] = running as [Operator, Operator];
    const stoppedAt = Date.now();
    await first.stop();
    await eventually('the standby to lead', () => second.isLeader, 10_000);
    // Released, not expired: faster than the 4 s lease duration.
    expect(Date.now() - stoppedAt).to.be.lessThan(4000);
    await cluster.admin.create(chatCluster(ns, 'two'));
    await eventually('the new leader to reconcile', async () =>
      getObject(cluster.admin, 'Deployment', ns, 'two-auth'),
    );
    const lease = await cluster.admin.get<Lease>(LEASE, 'default', 'two-replicas');
    expect(lease.spec.leaseTransitions).to.equal(1);
  });

  it('takes over a lease whose holder vanished only after it expired', async () => {
    const now = new Date().toISOString().replace('Z', '000Z');
    await cluster.admin.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'crashed-holder', namespace: 'default' },
      spec: { holderIdentity: 'crashed-pod', leaseDurationSeconds: 4, acquireTime: now, renewTime: now },
    } as never);
    const started = Date.now();
    const successor = start('crashed-holder');
    await new Promise((r) => setTimeout(r, 2000));
    expect(successor.isLeader, 'leading while the old lease is still valid').to.equal(false);
    await eventually('the successor to lead', () => successor.isLeader, 15_000);
    expect(Date.now() - started).to.be.greaterThanOrEqual(4000);
  });

  /** A holder whose clock is `skewMs` off writes the Lease; it renews every second until stopped. */
  const skewedHolder = async (leaseName: string, skewMs: number, renewing: boolean) => {
    const stamp = () => new Date(Date.now() + skewMs).toISOString().replace('Z', '000Z');
    await cluster.admin.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: leaseName, namespace: 'default' },
      spec: {
        holderIdentity: 'skewed-pod',
        leaseDurationSeconds: 4,
        acquireTime: stamp(),
        renewTime: stamp(),
      },
    } as never);
    const timer = setInterval(() => {
      void cluster.admin
        .mergePatch(LEASE, 'default', leaseName, { spec: { renewTime: stamp() } })
        .catch(() => undefined);
    }, 1000);
    if (!renewing) clearInterval(timer);
    return { stop: () => clearInterval(timer) };
  };

  it('takes over a vanished holder whose clock ran minutes ahead after one lease duration, not minutes', async () => {
    await skewedHolder('ahead-holder', +5 * 60_000, false);
    const started = Date.now();
    const successor = start('ahead-holder');
    // Minutes would be the holder's skewed renewTime; a loaded machine may add seconds, not minutes.
    await eventually('the successor to lead', () => successor.isLeader, 40_000);
    expect(Date.now() - started).to.be.within(4000, 40_000);
  });

  it('never takes over from a renewing holder whose clock runs minutes behind', async () => {
    const holder = await skewedHolder('behind-holder', -5 * 60_000, true);
    try {
      const candidate = start('behind-holder');
      await new Promise((r) => setTimeout(r, 7000)); // beyond the 4 s lease duration
      expect(candidate.isLeader, 'took a lease renewed every second').to.equal(false);
      holder.stop();
      const stoppedAt = Date.now();
      await eventually('the candidate to lead once renewals stop', () => candidate.isLeader, 15_000);
      expect(Date.now() - stoppedAt).to.be.greaterThanOrEqual(3000);
    } finally {
      holder.stop();
    }
  });
});
