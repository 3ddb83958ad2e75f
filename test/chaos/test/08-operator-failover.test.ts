// Failure matrix 8: the operator killed mid-reconcile, its leadership lost with it (SIGKILL: the Lease is
// not released). Two operators run as the chart runs them (leader election on the Lease
// `chatcluster-operator`): the leader reaches the API server through a proxy that, once the ChatCluster
// changes, lets only a few of its requests through, so the change is half-applied when it is killed; the
// standby waits out the Lease, takes over and finishes: every child as desired, the status caught up,
// the ChatCluster Ready, and the chat load, rolled onto the new version meanwhile, loses nothing.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalService, type LocalService } from '@chatcluster/dev';
import {
  ChatLoad,
  clusterStatus,
  expectNothingLost,
  freshChannel,
  GateProxy,
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

describe('chaos 8: the operator killed mid-reconcile, its leadership lost: the standby finishes', function () {
  this.timeout(600_000);
  let platform: ChaosPlatform;
  let gate: GateProxy | undefined;
  const operators: LocalService[] = [];
  let figures: LoadFigures;
  let atKill: {
    generation: number;
    observedGeneration: number | undefined;
    updated: string[];
    stale: string[];
  };
  let takeoverMs: number;
  let finishedMs: number;
  let finalChildren: Child[];
  let finalGeneration: number;
  let finalStatus: ClusterStatus;

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const result = await platform.platform.parts.controlPlane.kube.kubectl(
      args,
      input === undefined ? {} : { input },
    );
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
    return result.stdout;
  };
  const leaseHolder = async () =>
    (
      await kubectl([
        '-n',
        'default',
        'get',
        'lease',
        'chatcluster-operator',
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ])
    ).trim();
  const children = async (): Promise<Child[]> =>
    (
      JSON.parse(
        await kubectl([
          '-n',
          'default',
          'get',
          CHILD_KINDS,
          '-l',
          'chatcluster.io/cluster=chat',
          '-o',
          'json',
        ]),
      ) as {
        items: Child[];
      }
    ).items.filter((c) => c.metadata.labels?.[VERSION_LABEL] !== undefined);
  const generation = async () =>
    Number(
      (
        await kubectl([
          '-n',
          'default',
          'get',
          'chatcluster',
          'chat',
          '-o',
          'jsonpath={.metadata.generation}',
        ])
      ).trim(),
    );
  const name = (c: Child) => `${c.kind}/${c.metadata.name}`;

  const chaos = useChaosPlatform();

  before(async function () {
    this.timeout(600_000);
    platform = chaos();
    const kube = platform.platform.parts.controlPlane.kube;
    const version = (await children())[0]!.metadata.labels![VERSION_LABEL]!;
    const next = `${version}-chaos.1`;

    const members = platform.users.slice(0, 6);
    const channelId = await freshChannel(platform, members);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    await load.progress(30);

    // The platform's operator makes way (a clean stop releases the Lease); A leads through the gate, B stands by.
    await platform.platform.parts.controlPlane.operator.stop();
    const server = new URL(kube.server);
    gate = await GateProxy.start({ host: server.hostname, port: Number(server.port) });
    const gatedConfig = join(platform.dir, 'kubeconfig-operator-a');
    writeFileSync(
      gatedConfig,
      readFileSync(kube.kubeconfigPath, 'utf8').replace(kube.server, `https://127.0.0.1:${gate.port}`),
    );
    const env = (id: string, config: string) => ({
      KUBECONFIG: config,
      POD_NAME: id,
      POD_NAMESPACE: 'default',
    });
    const a = await startLocalService(
      'operator',
      env('operator-a', gatedConfig),
      join(platform.dir, 'operator-a'),
    );
    operators.push(a);
    await eventually('operator-a leading', async () => (await leaseHolder()) === 'operator-a', 60_000, 500);
    const b = await startLocalService(
      'operator',
      env('operator-b', kube.kubeconfigPath),
      join(platform.dir, 'operator-b'),
    );
    operators.push(b);

    // The change: a new version for every component (labels of every child, images of every workload).
    const before = await generation();
    gate.admit(6);
    await kubectl([
      '-n',
      'default',
      'patch',
      'chatcluster',
      'chat',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { image: { version: next } } }),
    ]);
    await eventually(
      'operator-a applying the change',
      async () => (await children()).some((c) => c.metadata.labels![VERSION_LABEL] === next),
      30_000,
      100,
    );
    // Its remaining requests are held by the gate; kill it mid-reconcile.
    await new Promise((r) => setTimeout(r, 1_000));
    process.kill(-a.pid, 'SIGKILL');
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

    await eventually('operator-b leading', async () => (await leaseHolder()) === 'operator-b', 60_000, 250);
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
      240_000,
      500,
    );
    finishedMs = Date.now() - killedAt;
    load.mark('faultEnd');
    await load.progress(30, 120_000);
    figures = await load.stop(120_000);
    finalChildren = await children();
    finalGeneration = await generation();
    finalStatus = await clusterStatus(platform);
    report('8-operator-killed-mid-reconcile', figures, {
      version: { from: version, to: next },
      childrenAtKill: { updated: atKill.updated.length, stale: atKill.stale.length },
      observedGenerationAtKill: atKill.observedGeneration,
      gate: { forwarded: gate.forwarded, held: gate.held },
      standbyLeadingMsAfterKill: takeoverMs,
      finishedMsAfterKill: finishedMs,
      messageReplicasNow: platform.replicas('message').map((r) => r.name),
    });
  });
  after(async () => {
    for (const operator of operators) await operator.stop().catch(() => undefined);
    await gate?.stop();
  });

  it('was killed mid-reconcile: the change half-applied, the status not caught up', () => {
    expect(atKill.updated, 'children changed before the kill').to.not.be.empty;
    expect(atKill.stale, 'children not yet changed at the kill').to.not.be.empty;
    expect(atKill.observedGeneration).to.be.below(atKill.generation);
  });

  it('the standby took the Lease after it expired and finished: nothing left half-applied', () => {
    expect(takeoverMs).to.be.below(30_000);
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
