// Canary releases of the message service on the real cluster: Argo Rollouts walks the ChatCluster's
// steps with background AnalysisRuns querying the in-cluster Prometheus (which the Prometheus Operator
// runs from the operator's ServiceMonitors and PrometheusRule), while chat clients keep sending.
//   1. a good release is promoted; nothing lost, every client resumed, Ready never blocks;
//   2. a release whose sends fail (503 for half of them, by its own configuration) is aborted within
//      its first step by canary health, the ChatCluster Degraded/CanaryAborted with an Event;
//   3. a release whose deliveries are slow but whose sends neither fail nor ack late: canary health
//      passes it, the message-delivery SLO's burn rate fails it ("one definition drives alerts and
//      rollback");
//   4. a release with no traffic pauses Inconclusive, and `kubectl argo rollouts promote` finishes it.
// The figures (time to abort, canary share of connections per step, messages) are printed as JSON.
import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { cacheDir, call, eventually, runCommand } from '@chatcluster/harness';
import { CLUSTER_NAME } from '@chatcluster/dev';
import {
  ChatLoad,
  JOURNEY_SETTINGS,
  ReleaseTraffic,
  analysisRuns,
  chatClusterConditions,
  chatClusterEvents,
  connectionShare,
  expectNothingLost,
  freshChannel,
  importVariant,
  metricValue,
  releaseMessage,
  report,
  rolloutState,
  type ChaosPlatform,
  type RolloutState,
} from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

const patchSpec = (platform: ChaosPlatform, spec: unknown) =>
  platform.kubectl(['patch', 'chatcluster', CLUSTER_NAME, '--type=merge', '-p', JSON.stringify({ spec })]);

/** Waits until the message Rollout is Healthy on `hash`, its canary done. */
const healthyOn = (platform: ChaosPlatform, hash: string | undefined, timeoutMs = 240_000) =>
  eventually(
    `the message Rollout Healthy${hash ? ` on ${hash}` : ''}`,
    async () => {
      const state = await rolloutState(platform);
      return state.phase === 'Healthy' && (!hash || state.stableHash === hash) ? state : undefined;
    },
    timeoutMs,
    1000,
  );

/** The canary's pod-template hash once the Rollout has started the release. */
const canaryStarted = (platform: ChaosPlatform, stableHash: string) =>
  eventually(
    'the message Rollout to start the canary',
    async () => {
      const state = await rolloutState(platform);
      return state.canaryHash && state.canaryHash !== stableHash ? state.canaryHash : undefined;
    },
    60_000,
    500,
  );

interface StepShare {
  step: number;
  samples: number;
  maxCanaryShare: number;
  lastCanary: number;
  lastStable: number;
}

/** Samples where the clients' connections are at each step until `until` resolves. */
async function sampleShares(
  platform: ChaosPlatform,
  canaryHash: string,
  until: Promise<unknown>,
): Promise<StepShare[]> {
  let done = false;
  void until.finally(() => (done = true));
  const byStep = new Map<number, StepShare>();
  while (!done) {
    const [state, share] = await Promise.all([rolloutState(platform), connectionShare(platform, canaryHash)]);
    const total = share.canary + share.stable;
    const entry = byStep.get(state.step) ?? {
      step: state.step,
      samples: 0,
      maxCanaryShare: 0,
      lastCanary: 0,
      lastStable: 0,
    };
    entry.samples += 1;
    entry.maxCanaryShare = Math.max(entry.maxCanaryShare, total ? share.canary / total : 0);
    entry.lastCanary = share.canary;
    entry.lastStable = share.stable;
    byStep.set(state.step, entry);
    await delay(2_000);
  }
  return [...byStep.values()].map((s) => ({ ...s, maxCanaryShare: Number(s.maxCanaryShare.toFixed(2)) }));
}

describe('chaos 11: canary releases of the message service, judged by canary health and the SLOs', function () {
  this.timeout(600_000);
  let original: { monitoring: unknown; rollout: unknown } | undefined;
  let baseTag = '';

  const chaos = useChaosPlatform(async (platform) => {
    // Back to make dev's settings and version, through a canary without analysis.
    if (original) await patchSpec(platform, original);
    await releaseMessage(platform, null);
    await healthyOn(platform, undefined, 300_000).catch(() => undefined);
  });

  before(async function () {
    this.timeout(300_000);
    const platform = chaos();
    const cluster = JSON.parse(
      await platform.kubectl(['get', 'chatcluster', CLUSTER_NAME, '-o', 'json']),
    ) as {
      spec: { monitoring: unknown; rollout: unknown; image: { version: string } };
    };
    original = { monitoring: cluster.spec.monitoring, rollout: cluster.spec.rollout };
    baseTag = cluster.spec.image.version;
    // Turning analysis on changes no pod template: no release, and the ChatCluster stays Ready.
    await patchSpec(platform, JOURNEY_SETTINGS);
    await eventually(
      'the message Rollout gated by its AnalysisTemplates, Healthy',
      async () => {
        const rollout = JSON.parse(
          await platform.kubectl(['get', 'rollout', `${CLUSTER_NAME}-message`, '-o', 'json']),
        ) as {
          spec: { strategy: { canary: { analysis?: unknown } } };
        };
        return (
          rollout.spec.strategy.canary.analysis !== undefined &&
          (await rolloutState(platform)).phase === 'Healthy'
        );
      },
      60_000,
      1000,
    );
    const { conditions } = await chatClusterConditions(platform);
    expect(conditions.Degraded?.status, conditions.Degraded?.message).to.equal('False');
    // The new scrape interval reaches Prometheus through the Prometheus Operator, the kubelet's sync of
    // its config Secret and the config reloader: a minute or two.
    await eventually(
      'Prometheus scraping the message pods every 5 s',
      async () => {
        const targets = await call<{
          data: { activeTargets: { labels: Record<string, string>; scrapeInterval: string }[] };
        }>(platform.platform.parts.prometheus.url, 'GET', '/api/v1/targets?state=active');
        const message = targets.body.data.activeTargets.filter(
          (t) => t.labels.service === `${CLUSTER_NAME}-message`,
        );
        return message.length > 0 && message.every((t) => t.scrapeInterval === '5s');
      },
      240_000,
      2000,
    );
    await platform.tagImages(`${baseTag}-good`);
    await platform.tagImages(`${baseTag}-quiet`);
    await importVariant(platform, `${baseTag}-failing`, { FAULT_SEND_ERROR_PERCENT: '50' });
    await importVariant(platform, `${baseTag}-slow`, { FAULT_PUBLISH_DELAY_MS: '800' });
  });

  /** Chat load on a fresh channel with every pool user, plus clients that come and go. */
  async function startTraffic(platform: ChaosPlatform) {
    const members = platform.users.slice(0, 8);
    const channelId = await freshChannel(platform, platform.users);
    const load = await ChatLoad.start({
      messageUrl: platform.messageUrl,
      channelId,
      members,
      ratePerMember: 0.5,
    });
    const visitors = new ReleaseTraffic(platform.messageUrl, channelId, platform.users.slice(8));
    await load.progress(10);
    return { load, visitors };
  }

  it('1. promotes a good release through every step while clients keep chatting; Ready never blocks', async () => {
    const platform = chaos();
    const { load, visitors } = await startTraffic(platform);
    const stable = await rolloutState(platform);
    load.mark('faultStart');
    const releasedAt = Date.now();
    await releaseMessage(platform, `${baseTag}-good`);
    const canaryHash = await canaryStarted(platform, stable.stableHash);

    // `kubectl wait --for=condition=Ready` answers at once throughout the release.
    const readyWaits: number[] = [];
    let releasing = true;
    const readyWatch = (async () => {
      while (releasing) {
        const started = Date.now();
        const result = await platform.cluster.kubectl([
          '-n',
          'default',
          'wait',
          `chatcluster/${CLUSTER_NAME}`,
          '--for=condition=Ready',
          '--timeout=5s',
        ]);
        expect(result.code, `kubectl wait blocked: ${result.stderr}`).to.equal(0);
        readyWaits.push(Date.now() - started);
        await delay(2_000);
      }
    })();
    const promoted = healthyOn(platform, canaryHash);
    const shares = await sampleShares(platform, canaryHash, promoted);
    await promoted;
    releasing = false;
    await readyWatch;
    load.mark('faultEnd');
    const tookMs = Date.now() - releasedAt;
    await load.progress(10, 60_000);
    // Every member connected again at the end (those of the replaced pods resumed on another).
    const states = load.users.map((user) => user.client.state);
    const visits = await visitors.stop();
    const figures = await load.stop();

    const runs = await analysisRuns(platform, canaryHash);
    report('11-1-good-release', figures, {
      tookMs,
      shares,
      visits,
      readyWaitMaxMs: Math.max(...readyWaits),
      runs,
    });
    expect(runs.length, 'AnalysisRuns of the release').to.be.at.least(1);
    const run = runs[runs.length - 1]!;
    expect(run.phase, run.message).to.equal('Successful');
    for (const metric of run.metrics) {
      expect(metric.successful, `${metric.name} measured successfully`).to.be.at.least(1);
      expect(metric.failed + metric.inconclusive, `${metric.name}: ${metric.message}`).to.equal(0);
    }
    expect(
      shares.some((s) => s.lastCanary > 0 && s.lastStable > 0),
      'clients on both versions mid-release',
    ).to.equal(true);
    expectNothingLost(figures);
    expect(states, 'every member connected at the end').to.deep.equal(states.map(() => 'open'));
    expect(figures.reconnects, 'members of replaced pods reconnected').to.be.at.least(1);
  });

  it('2. aborts a release whose sends fail within its first step; stable serves; Degraded/CanaryAborted', async () => {
    const platform = chaos();
    const { load, visitors } = await startTraffic(platform);
    const stable = await rolloutState(platform);
    await releaseMessage(platform, `${baseTag}-failing`);
    const canaryHash = await canaryStarted(platform, stable.stableHash);
    load.mark('faultStart');

    // The first refused send: the canary pod's 503 count turning non-zero, read every second.
    let firstBadSendAt: number | undefined;
    const aborted = eventually(
      'the Rollout aborted by its analysis',
      async () => {
        if (firstBadSendAt === undefined) {
          for (const replica of await platform.replicas('message')) {
            if (replica.templateHash !== canaryHash || !replica.url) continue;
            const refused = await metricValue(replica.url, 'chat_message_ws_sends_total', {
              code: '503',
            }).catch(() => undefined);
            if (refused && refused > 0) firstBadSendAt = Date.now();
          }
        }
        const state = await rolloutState(platform);
        return state.aborted ? { at: Date.now(), state } : undefined;
      },
      240_000,
      1000,
    );
    const shares = await sampleShares(platform, canaryHash, aborted);
    const { at: abortedAt, state } = await aborted;
    expect(state.step, 'aborted within the first step (setWeight 50, its pause)').to.be.at.most(1);
    await eventually(
      'the canary pods scaled away',
      async () =>
        (await platform.replicas('message')).every((r) => r.templateHash !== canaryHash || r.deleting),
      120_000,
      1000,
    );
    const { conditions } = await eventually(
      'the ChatCluster Degraded with reason CanaryAborted',
      async () => {
        const status = await chatClusterConditions(platform);
        return status.conditions.Degraded?.status === 'True' &&
          status.conditions.Degraded.reason === 'CanaryAborted'
          ? status
          : undefined;
      },
      60_000,
      1000,
    );
    const runs = await analysisRuns(platform, canaryHash);
    const failedMetrics = runs.flatMap((r) =>
      r.metrics.filter((m) => m.phase === 'Failed').map((m) => m.name),
    );
    expect(failedMetrics, 'the canary-health metric that failed').to.include('ws-send-failures');
    expect(conditions.Degraded!.message).to.contain('ws-send-failures');
    expect(conditions.Ready?.status, 'stable still serves').to.equal('True');
    const events = await chatClusterEvents(platform, 'CanaryAborted');
    expect(events.map((e) => e.message).join('\n')).to.contain('message');

    load.mark('faultEnd');
    await load.progress(10, 60_000);
    const visits = await visitors.stop();
    const figures = await load.stop();
    // Back to the stable version: the Rollout is Healthy on it again, no longer Degraded.
    await releaseMessage(platform, `${baseTag}-good`);
    await healthyOn(platform, stable.stableHash);
    await eventually(
      'Degraded cleared once the stable version is declared again',
      async () => (await chatClusterConditions(platform)).conditions.Degraded?.status === 'False',
      60_000,
      1000,
    );
    report('11-2-failing-release', figures, {
      firstBadSendToAbortMs: firstBadSendAt === undefined ? null : abortedAt - firstBadSendAt,
      shares,
      visits,
      failedMetrics,
      events,
    });
    expect(firstBadSendAt, 'the canary refused sends').to.be.a('number');
    expectNothingLost(figures);
  });

  it('3. aborts a release only the message-delivery SLO sees (slow deliveries, healthy sends)', async () => {
    const platform = chaos();
    const { load, visitors } = await startTraffic(platform);
    const stable = await rolloutState(platform);
    await releaseMessage(platform, `${baseTag}-slow`);
    const canaryHash = await canaryStarted(platform, stable.stableHash);
    const startedAt = Date.now();
    const aborted = eventually(
      'the Rollout aborted by its analysis',
      async () => ((await rolloutState(platform)).aborted ? Date.now() : undefined),
      240_000,
      1000,
    );
    const shares = await sampleShares(platform, canaryHash, aborted);
    const abortedAt = await aborted;
    const runs = await analysisRuns(platform, canaryHash);
    const metrics = runs.flatMap((r) => r.metrics);
    const byName = (name: string) => metrics.filter((m) => m.name === name);
    await visitors.stop();
    const figures = await load.stop();
    await releaseMessage(platform, `${baseTag}-good`);
    await healthyOn(platform, stable.stableHash);
    report('11-3-slow-release', figures, { abortAfterCanaryStartMs: abortedAt - startedAt, shares, metrics });

    expect(
      byName('message-delivery-burn-rate').some((m) => m.phase === 'Failed'),
      'the SLO template failed it',
    ).to.equal(true);
    // Canary health alone would have passed it: every one of its measurements was a success.
    for (const name of ['ws-send-failures', 'error-rate']) {
      const results = byName(name);
      expect(results, name).to.not.be.empty;
      for (const m of results) expect(m.failed, `${name} failed: ${m.message}`).to.equal(0);
      expect(
        results.reduce((n, m) => n + m.successful, 0),
        `${name} measured`,
      ).to.be.at.least(1);
    }
    expectNothingLost(figures);
  });

  it('4. pauses a release with no traffic as Inconclusive; promoting it by hand finishes it', async () => {
    const platform = chaos();
    const stable = await rolloutState(platform);
    await releaseMessage(platform, `${baseTag}-quiet`);
    const canaryHash = await canaryStarted(platform, stable.stableHash);
    const paused = await eventually(
      'the Rollout paused by an Inconclusive AnalysisRun',
      async () => {
        const state = await rolloutState(platform);
        return state.pauseReasons.includes('InconclusiveAnalysisRun') ? state : undefined;
      },
      180_000,
      1000,
    );
    const runs = await analysisRuns(platform, canaryHash);
    expect(runs.map((r) => r.phase)).to.include('Inconclusive');
    expect(paused.aborted, 'not a failure').to.equal(false);
    const { conditions } = await chatClusterConditions(platform);
    expect(conditions.Ready?.status).to.equal('True');
    expect(conditions.Progressing?.reason).to.equal('CanaryPaused');
    expect(conditions.Degraded?.status).to.equal('False');

    const promote = await runCommand(kubectlArgoRollouts(), [
      'promote',
      `${CLUSTER_NAME}-message`,
      '-n',
      'default',
      '--kubeconfig',
      platform.cluster.kubeconfigPath,
    ]);
    expect(promote.code, promote.stderr).to.equal(0);
    const done: RolloutState = await healthyOn(platform, canaryHash);
    report('11-4-quiet-release', undefined, { pausedAtStep: paused.step, runs, promotedTo: done.stableHash });
  });
});

const kubectlArgoRollouts = (): string => join(cacheDir(), 'bin', 'kubectl-argo-rollouts');
