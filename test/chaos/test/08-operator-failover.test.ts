// Failure matrix 8: the operator's leader hangs as a change arrives, and is then killed, its leadership
// lost with it (the Lease is never released). Two operator pods run as the Helm chart runs them (leader
// election on the Lease `chatcluster-operator` in the operator's namespace). The leader's process is
// stopped (SIGSTOP through containerd: it holds the Lease but neither renews it nor reconciles), the
// ChatCluster changes, and the pod is deleted with --grace-period=0 --force. (A leader left running
// applies a change in well under a second, faster than any kill: stopping it first makes "killed before
// it finished" certain.) The standby waits out the Lease, takes over and does the whole change: every
// child as desired, the status caught up, the ChatCluster Ready, and the chat load, rolled onto the new
// version meanwhile, loses nothing.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { OPERATOR_NAMESPACE } from '@chatcluster/dev';
import { toReplica, type PodJson } from '@chatcluster/e2e';
import {
  ChatLoad,
  clusterStatus,
  expectNothingLost,
  freshChannel,
  report,
  type ChaosPlatform,
  type ClusterStatus,
  type LoadFigures,
} from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

const CHILD_KINDS =
  'deployments,rollouts.argoproj.io,services,configmaps,serviceaccounts,poddisruptionbudgets,networkpolicies,servicemonitors.monitoring.coreos.com';
const VERSION_LABEL = 'app.kubernetes.io/version';

interface Child {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: { image: string }[] } } };
}

describe('chaos 8: the operator leader hangs and is killed as a change arrives: the standby finishes', function () {
  this.timeout(600_000);
  let platform: ChaosPlatform;
  let figures: LoadFigures;
  let atKill: {
    generation: number;
    observedGeneration: number | undefined;
    updated: string[];
    stale: string[];
  };
  let killed: string;
  let standby: string;
  let newLeader: string;
  let takeoverMs: number;
  let finishedMs: number;
  let finalChildren: Child[];
  let finalGeneration: number;
  let finalStatus: ClusterStatus;

  const kubectl = (args: string[]): Promise<string> => platform.kubectl(args);
  const leaseHolder = async () =>
    (
      await kubectl([
        '-n',
        OPERATOR_NAMESPACE,
        'get',
        'lease',
        'chatcluster-operator',
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ])
    ).trim();
  const operatorPods = async () =>
    (
      JSON.parse(
        await kubectl([
          '-n',
          OPERATOR_NAMESPACE,
          'get',
          'pods',
          '-l',
          'app.kubernetes.io/name=chatcluster-operator',
          '-o',
          'json',
        ]),
      ) as { items: PodJson[] }
    ).items
      .map(toReplica)
      .filter((pod) => pod.ready && !pod.deleting);
  const children = async (): Promise<Child[]> =>
    (
      JSON.parse(await kubectl(['get', CHILD_KINDS, '-l', 'chatcluster.io/cluster=chat', '-o', 'json'])) as {
        items: Child[];
      }
    ).items.filter((c) => c.metadata.labels?.[VERSION_LABEL] !== undefined);
  const generation = async () =>
    Number((await kubectl(['get', 'chatcluster', 'chat', '-o', 'jsonpath={.metadata.generation}'])).trim());
  const name = (c: Child) => `${c.kind}/${c.metadata.name}`;
  /** Every Rollout has seen its latest spec and made its newest ReplicaSet the stable one (Healthy). */
  const rolloutsSettled = async () =>
    (
      JSON.parse(await kubectl(['get', 'rollouts.argoproj.io', '-o', 'json'])) as {
        items: {
          metadata: { generation: number };
          status?: {
            observedGeneration?: string;
            phase?: string;
            stableRS?: string;
            currentPodHash?: string;
          };
        }[];
      }
    ).items.every(
      ({ metadata, status }) =>
        status?.observedGeneration === String(metadata.generation) &&
        status.phase === 'Healthy' &&
        status.stableRS === status.currentPodHash,
    );

  const chaos = useChaosPlatform();

  before(async function () {
    this.timeout(600_000);
    platform = chaos();
    const version = (await children())[0]!.metadata.labels![VERSION_LABEL]!;
    const next = `${version}-chaos.1`;
    // The new version's images: this build's, under the new tag (nothing can be pulled).
    await platform.tagImages(next);

    const members = platform.users.slice(0, 6);
    const channelId = await freshChannel(platform, members);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    await load.progress(30);

    const pods = await eventually(
      'two ready operator pods, one leading',
      async () => {
        const all = await operatorPods();
        const leader = await leaseHolder();
        const leading = all.find((pod) => pod.name === leader);
        return all.length === 2 && leading ? { all, leading } : undefined;
      },
      120_000,
      500,
    );
    killed = pods.leading.name;
    standby = pods.all.find((pod) => pod.name !== killed)!.name;

    // The leader hangs; the change arrives: a new version for every component (labels of every child,
    // images of every workload); the hung leader is killed.
    await platform.killContainer(pods.leading, 'SIGSTOP');
    const before = await generation();
    await kubectl([
      'patch',
      'chatcluster',
      'chat',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { image: { version: next } } }),
    ]);
    await kubectl([
      '-n',
      OPERATOR_NAMESPACE,
      'delete',
      'pod',
      killed,
      '--grace-period=0',
      '--force',
      '--wait=false',
    ]);
    const killedAt = Date.now();
    load.mark('faultStart', killedAt);
    const snapshot = await children();
    const status = await clusterStatus(platform);
    atKill = {
      generation: before + 1,
      observedGeneration: status.observedGeneration,
      updated: snapshot.filter((c) => c.metadata.labels![VERSION_LABEL] === next).map(name),
      stale: snapshot.filter((c) => c.metadata.labels![VERSION_LABEL] !== next).map(name),
    };

    newLeader = await eventually(
      'another operator leading',
      async () => {
        const holder = await leaseHolder();
        return holder && holder !== killed ? holder : undefined;
      },
      90_000,
      250,
    );
    takeoverMs = Date.now() - killedAt;
    await eventually(
      'every child at the new version, every Rollout done with it, the status caught up and the ChatCluster Ready',
      async () => {
        const all = await children();
        const s = await clusterStatus(platform);
        return (
          all.every((c) => c.metadata.labels![VERSION_LABEL] === next) &&
          (await rolloutsSettled()) &&
          s.observedGeneration === before + 1 &&
          s.phase === 'Ready'
        );
      },
      300_000,
      500,
    );
    finishedMs = Date.now() - killedAt;
    load.mark('faultEnd');
    await load.progress(30, 120_000);
    figures = await load.stop(120_000);
    finalChildren = await children();
    finalGeneration = await generation();
    finalStatus = await clusterStatus(platform);
    report('8-operator-leader-killed', figures, {
      version: { from: version, to: next },
      killed,
      standby,
      newLeader,
      childrenAtKill: { updated: atKill.updated.length, stale: atKill.stale.length },
      observedGenerationAtKill: atKill.observedGeneration,
      standbyLeadingMsAfterKill: takeoverMs,
      finishedMsAfterKill: finishedMs,
      messageReplicasNow: (await platform.replicas('message')).map((r) => r.name),
    });
  });

  it('was killed before it applied the change: every child stale, the status behind', () => {
    expect(atKill.updated).to.be.empty;
    expect(atKill.stale).to.not.be.empty;
    expect(atKill.observedGeneration).to.be.below(atKill.generation);
  });

  it('another operator took the Lease after it expired and finished: nothing left half-applied', () => {
    expect(newLeader).to.not.equal(killed);
    expect(takeoverMs).to.be.below(45_000);
    expect(finalChildren.length).to.equal(atKill.updated.length + atKill.stale.length);
    const next = finalChildren[0]!.metadata.labels![VERSION_LABEL]!;
    for (const child of finalChildren) {
      expect(child.metadata.labels![VERSION_LABEL], name(child)).to.equal(next);
      for (const container of child.spec?.template?.spec?.containers ?? []) {
        expect(container.image.endsWith(`:${next}`), `${name(child)} ${container.image}`).to.equal(true);
      }
    }
    expect(finalStatus.observedGeneration).to.equal(finalGeneration);
    expect(finalStatus.phase).to.equal('Ready');
  });

  it('loses and duplicates no acknowledged message meanwhile (the new version rolled out under load)', () => {
    expectNothingLost(figures);
  });
});
