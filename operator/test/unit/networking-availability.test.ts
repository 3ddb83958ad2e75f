import { expect } from 'chai';
import {
  horizontalPodAutoscaler,
  podDisruptionBudget,
  serviceAccount,
} from '../../src/specs/availability.js';
import { ALL_CAPABILITIES } from '../../src/specs/capabilities.js';
import { serviceMonitor } from '../../src/specs/monitoring.js';
import { ingress, networkPolicy, service } from '../../src/specs/networking.js';
import type { KubeObject } from '../../src/specs/meta.js';
import { sampleCluster } from '../support/sample-cluster.js';

const spec = <T>(o: KubeObject | undefined) => o!.spec as T;
const ingressSpec = {
  ingress: { enabled: true, host: 'chat.example.com', className: 'nginx', tlsSecretName: 'chat-tls' },
};

describe('Service and Ingress', () => {
  it('exposes the component port by name and selects only its pods', () => {
    const s = spec<{ selector: Record<string, string>; ports: unknown[] }>(service(sampleCluster(), 'auth'));
    expect(s.ports).to.deep.equal([{ name: 'http', port: 8081, targetPort: 'http', protocol: 'TCP' }]);
    expect(s.selector).to.deep.equal({
      'app.kubernetes.io/name': 'auth',
      'app.kubernetes.io/instance': 'prod',
    });
  });

  it('creates no Ingress unless enabled', () => {
    expect(ingress(sampleCluster())).to.equal(undefined);
  });

  it('pins WebSocket clients to a pod with a persistent affinity cookie and long proxy timeouts', () => {
    const i = ingress(sampleCluster(ingressSpec))!;
    expect(i.metadata.annotations).to.include({
      'nginx.ingress.kubernetes.io/affinity': 'cookie',
      'nginx.ingress.kubernetes.io/affinity-mode': 'persistent',
      'nginx.ingress.kubernetes.io/session-cookie-name': 'chatcluster-route',
      'nginx.ingress.kubernetes.io/session-cookie-max-age': '3600',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
    });
    const s = spec<{
      ingressClassName: string;
      tls: unknown;
      rules: { http: { paths: { path: string; backend: unknown }[] } }[];
    }>(i);
    expect(s.ingressClassName).to.equal('nginx');
    expect(s.tls).to.deep.equal([{ hosts: ['chat.example.com'], secretName: 'chat-tls' }]);
    expect(s.rules[0]!.http.paths.find((p) => p.path === '/ws')!.backend).to.deep.equal({
      service: { name: 'prod-message', port: { name: 'http' } },
    });
  });

  it('routes / to message only when the ChatCluster serves the chat page', () => {
    const paths = (cluster: ReturnType<typeof sampleCluster>) =>
      spec<{ rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] }>(
        ingress(cluster),
      ).rules[0]!.http.paths.map((p) => [p.path, p.backend.service.name]);
    expect(paths(sampleCluster(ingressSpec))).to.not.deep.include(['/', 'prod-message']);
    expect(paths(sampleCluster({ ...ingressSpec, chatPage: { enabled: true } }))).to.deep.equal([
      ['/ws', 'prod-message'],
      ['/api/v1/messages', 'prod-message'],
      ['/api/v1', 'prod-auth'],
      ['/', 'prod-message'],
    ]);
  });

  it('drops the affinity annotations when session affinity is off', () => {
    const i = ingress(
      sampleCluster({ ingress: { ...ingressSpec.ingress, sessionAffinity: { enabled: false } } }),
    )!;
    expect(i.metadata.annotations).to.not.have.property('nginx.ingress.kubernetes.io/affinity');
  });

  it('admits the ingress controller only to public components, Prometheus and peers to all', () => {
    const from = (component: 'auth' | 'notification') =>
      spec<{ ingress: { from: unknown[]; ports: unknown[] }[] }>(networkPolicy(sampleCluster(), component))
        .ingress[0]!;
    expect(from('auth').from).to.deep.include({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
    });
    expect(from('notification').from).to.not.deep.include({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
    });
    expect(from('notification').from).to.deep.include({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
    });
    expect(from('notification').ports).to.deep.equal([{ protocol: 'TCP', port: 8083 }]);
  });
});

describe('PodDisruptionBudget, HorizontalPodAutoscaler, ServiceAccount, ServiceMonitor', () => {
  it('allows one pod down by default, or what the spec says', () => {
    expect(spec(podDisruptionBudget(sampleCluster(), 'message'))).to.include({ maxUnavailable: 1 });
    const custom = sampleCluster({ components: { message: { disruptionBudget: { minAvailable: '50%' } } } });
    const s = spec<Record<string, unknown>>(podDisruptionBudget(custom, 'message'));
    expect(s.minAvailable).to.equal('50%');
    expect(s).to.not.have.property('maxUnavailable');
  });

  it('scales the Rollout between min and max at 70% CPU, or the Deployment without Argo Rollouts', () => {
    const hpa = spec<{
      scaleTargetRef: { kind: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: unknown[];
    }>(horizontalPodAutoscaler(sampleCluster(), 'message', ALL_CAPABILITIES));
    expect(hpa.scaleTargetRef).to.deep.equal({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      name: 'prod-message',
    });
    expect([hpa.minReplicas, hpa.maxReplicas]).to.deep.equal([3, 20]);
    expect(hpa.metrics).to.deep.equal([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ]);
    const fallback = spec<{ scaleTargetRef: { kind: string } }>(
      horizontalPodAutoscaler(sampleCluster(), 'message', { argoRollouts: false, prometheusOperator: false }),
    );
    expect(fallback.scaleTargetRef.kind).to.equal('Deployment');
  });

  it('makes no HPA when autoscaling is off', () => {
    const cluster = sampleCluster({ components: { auth: { autoscaling: { enabled: false } } } });
    expect(horizontalPodAutoscaler(cluster, 'auth', ALL_CAPABILITIES)).to.equal(undefined);
  });

  it('gives each component a ServiceAccount without a token', () => {
    expect(serviceAccount(sampleCluster(), 'auth')).to.include({ automountServiceAccountToken: false });
  });

  it('scrapes /metrics and keeps the Argo pod template hash as a label for the canary analysis', () => {
    const sm = spec<{ podTargetLabels: string[]; endpoints: unknown[] }>(
      serviceMonitor(sampleCluster({ monitoring: { labels: { release: 'prom' } } }), 'message'),
    );
    expect(sm.podTargetLabels).to.deep.equal(['rollouts-pod-template-hash']);
    expect(sm.endpoints).to.deep.equal([{ port: 'http', path: '/metrics', interval: '30s' }]);
    expect(
      serviceMonitor(sampleCluster({ monitoring: { labels: { release: 'prom' } } }), 'message').metadata
        .labels,
    ).to.include({
      release: 'prom',
    });
  });
});
