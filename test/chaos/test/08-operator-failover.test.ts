// Failure matrix 8: the operator's leader killed as a change arrives, its leadership lost with it (the
// pod force-deleted: the Lease is not released). Two operator pods run as the Helm chart runs them
// (leader election on the Lease `chatcluster-operator` in the operator's namespace): right after the
// ChatCluster changes, the leader is deleted with --grace-period=0 --force before it has caught the
// status up; the standby waits out the Lease, takes over and finishes: every child as desired, the
// status caught up, the ChatCluster Ready, and the chat load, rolled onto the new version meanwhile,
// loses nothing.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { OPERATOR_NAMESPACE } from '@chatcluster/dev';
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

describe('chaos 8: the operator leader killed as a change arrives, its leadership lost: the standby finishes', function () {
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
      await kubectl([
        '-n',
        OPERATOR_NAMESPACE,
        'get',
        'pods',
        '-l',
        'app.kubernetes.io/name=chatcluster-operator',
        '-o',
        'jsonpath={.items[*].metadata.name}',
      ])
    )
      .trim()
      .split(/\s+/)
      .filter(Boolean);
  const children = async (): Promise<Child[]> =>
    (
      JSON.parse(await kubectl(['get', CHILD_KINDS, '-l', 'chatcluster.io/cluster=chat', '-o', 'json'])) as {
        items: Child[];
      }
    ).items.filter((c) => c.metadata.labels?.[VERSION_LABEL] !== undefined);
  const generation = async () =>
    Number((await kubectl(['get', 'chatcluster', 'chat', '-o', 'jsonpath={.metadata.generation}'])).trim());
  const name = (c: Child) => `${c.kind}/${c.metadata.name}`;

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
      'two operator pods, one leading',
      async () => {
        const all = await operatorPods();
        const leader = await leaseHolder();
        return all.length === 2 && all.includes(leader) ? { all, leader } : undefined;
      },
      120_000,
      500,
    );
    killed = pods.leader;
    standby = pods.all.find((pod) => pod !== killed)!;

    // The change: a new version for every component (labels of every child, images of every workload).
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
      'every child at the new version, the status caught up and the ChatCluster Ready',
      async () => {
        const all = await children();
        const s = await clusterStatus(platform);
        return (
          all.every((c) => c.metadata.labels![VERSION_LABEL] === next) &&
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

  it('was killed before it finished: the status had not caught up with the change', () => {
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
