#!/usr/bin/env node
// The operator process: the kit's skeleton (config, JSON logs, /metrics, /health/*, graceful shutdown
// on SIGTERM) around the Operator. Inside a cluster it uses the pod's service account; elsewhere
// KUBECONFIG (`make dev` points it at the local API server).
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { createService, env, exitOnConfigError, kitConfigSchema } from '@chatcluster/kit';
import { OperatorMetrics } from './controller/metrics.js';
import { Operator } from './controller/operator.js';

const configSchema = kitConfigSchema.extend({
  PORT: env.port(8090),
  /** Reconcile ChatClusters of this namespace only; all namespaces when unset. */
  WATCH_NAMESPACE: env.string().optional(),
  /** Where the leader Lease lives: the operator's own namespace. */
  POD_NAMESPACE: env.string('default'),
  POD_NAME: env.string(hostname()),
  WORKERS: env.int(2, { min: 1, max: 64 }),
  RESYNC_INTERVAL_MS: env.durationMs(10 * 60_000),
  /** How often the Secrets the pods read are read again (a change rolls the pods). */
  REFERENCED_DATA_POLL_INTERVAL_MS: env.durationMs(60_000),
});

await exitOnConfigError(() =>
  createService({
    name: 'operator',
    metricsPrefix: 'chat_operator',
    configSchema,
    routes: (_app, service) => {
      const { config, logger, metrics, health } = service;
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      const operator = new Operator({
        kubeConfig,
        identity: config.POD_NAME,
        leaseNamespace: config.POD_NAMESPACE,
        ...(config.WATCH_NAMESPACE ? { watchNamespace: config.WATCH_NAMESPACE } : {}),
        workers: config.WORKERS,
        resyncIntervalMs: config.RESYNC_INTERVAL_MS,
        referencedDataPollIntervalMs: config.REFERENCED_DATA_POLL_INTERVAL_MS,
        metrics: new OperatorMetrics(metrics),
        log: logger,
      });
      health.addCheck(
        'informers',
        () =>
          operator.ready
            ? Promise.resolve()
            : Promise.reject(new Error('leading, but the caches are not synced yet')),
        1000,
      );
      service.onShutdown('operator', () => operator.stop());
      operator.start();
    },
  }),
);
