// The operator's own metrics (prefix chat_operator, docs/architecture.md): reconciles, errors,
// durations, queue depth, API requests by verb and outcome, watch restarts and leadership, and aborted
// canaries (what the ChatClusterCanaryAborted alert reads).
import type { Metrics } from '@chatcluster/kit';
import type { ResponseInfo } from '../kube/client.js';

export class OperatorMetrics {
  readonly reconciles;
  readonly reconcileErrors;
  readonly reconcileDuration;
  readonly queueDepth;
  readonly apiRequests;
  readonly watchRestarts;
  readonly leader;
  readonly childActions;
  readonly canaryAborted;

  constructor(readonly metrics: Metrics) {
    this.reconciles = metrics.counter('reconcile_total', 'ChatCluster reconciles, by result.', ['result']);
    this.reconcileErrors = metrics.counter(
      'reconcile_errors_total',
      'ChatCluster reconciles that failed.',
      [],
    );
    this.reconcileDuration = metrics.histogram(
      'reconcile_duration_seconds',
      'Time to reconcile one ChatCluster.',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    this.queueDepth = metrics.gauge('queue_depth', 'ChatCluster keys waiting to be reconciled.', []);
    this.apiRequests = metrics.counter('api_requests_total', 'Requests to the Kubernetes API server.', [
      'verb',
      'code',
    ]);
    this.watchRestarts = metrics.counter(
      'watch_restarts_total',
      'Informer list-and-watch restarts after errors.',
      ['resource'],
    );
    this.leader = metrics.gauge('leader', '1 while this replica holds the leader Lease.', []);
    this.childActions = metrics.counter(
      'child_actions_total',
      'Child objects created, updated, corrected, pruned.',
      ['action', 'kind'],
    );
    this.canaryAborted = metrics.gauge(
      'canary_aborted',
      "1 while a component's canary is aborted (Argo Rollouts rolled it back); 0 otherwise.",
      ['chatcluster_namespace', 'chatcluster', 'component'],
    );
  }

  observeResponse(response: ResponseInfo): void {
    this.apiRequests.inc({ verb: response.verb, code: String(response.status) });
  }
}
