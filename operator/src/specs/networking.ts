// Service, Ingress and NetworkPolicy of a ChatCluster.
import type { ChatCluster, ComponentName } from '../api/types.js';
import {
  PORTS,
  childMeta,
  clusterLabels,
  componentLabels,
  componentName,
  selectorLabels,
  type KubeObject,
} from './meta.js';

export function service(cluster: ChatCluster, component: ComponentName): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cluster, componentName(cluster, component), componentLabels(cluster, component)),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(cluster, component),
      ports: [{ name: 'http', port: PORTS[component], targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** Public paths: WebSockets and the message API go to message, the rest of the API to auth. */
export const INGRESS_ROUTES: { path: string; component: ComponentName }[] = [
  { path: '/ws', component: 'message' },
  { path: '/api/v1/messages', component: 'message' },
  { path: '/api/v1', component: 'auth' },
];

/** The routes of this ChatCluster's Ingress: the chat page, when served, takes the rest (`/`). */
export function ingressRoutes(cluster: ChatCluster): { path: string; component: ComponentName }[] {
  return cluster.spec.chatPage.enabled
    ? [...INGRESS_ROUTES, { path: '/', component: 'message' }]
    : INGRESS_ROUTES;
}

export function ingress(cluster: ChatCluster): KubeObject | undefined {
  const spec = cluster.spec.ingress;
  if (!spec.enabled || !spec.host) return undefined;
  const annotations: Record<string, string> = {
    // WebSockets live for hours: do not cut idle proxied connections after the 60 s default.
    'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
    'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
  };
  if (spec.sessionAffinity.enabled) {
    // Cookie affinity brings a reconnecting client back to the pod that holds its session; "persistent"
    // keeps it there when pods are added, instead of rebalancing live sessions.
    Object.assign(annotations, {
      'nginx.ingress.kubernetes.io/affinity': 'cookie',
      'nginx.ingress.kubernetes.io/affinity-mode': 'persistent',
      'nginx.ingress.kubernetes.io/session-cookie-name': spec.sessionAffinity.cookieName,
      'nginx.ingress.kubernetes.io/session-cookie-max-age': String(spec.sessionAffinity.maxAgeSeconds),
      'nginx.ingress.kubernetes.io/session-cookie-samesite': 'Lax',
    });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: childMeta(cluster, cluster.metadata.name, clusterLabels(cluster), annotations),
    spec: {
      ...(spec.className ? { ingressClassName: spec.className } : {}),
      ...(spec.tlsSecretName ? { tls: [{ hosts: [spec.host], secretName: spec.tlsSecretName }] } : {}),
      rules: [
        {
          host: spec.host,
          http: {
            paths: ingressRoutes(cluster).map(({ path, component }) => ({
              path,
              pathType: 'Prefix',
              backend: { service: { name: componentName(cluster, component), port: { name: 'http' } } },
            })),
          },
        },
      ],
    },
  };
}

const namespaceSelector = (name: string) => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
});

/** Who may connect to a component: its peers in this ChatCluster, Prometheus, and for the public
 * components the ingress controller. Egress stays open: data stores and providers live anywhere. */
export function networkPolicy(cluster: ChatCluster, component: ComponentName): KubeObject {
  const { ingressControllerNamespace, monitoringNamespace } = cluster.spec.networkPolicy;
  const from: Record<string, unknown>[] = [
    { podSelector: { matchLabels: { 'app.kubernetes.io/instance': cluster.metadata.name } } },
    namespaceSelector(monitoringNamespace),
  ];
  if (INGRESS_ROUTES.some((route) => route.component === component)) {
    from.push(namespaceSelector(ingressControllerNamespace));
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(cluster, componentName(cluster, component), componentLabels(cluster, component)),
    spec: {
      podSelector: { matchLabels: selectorLabels(cluster, component) },
      policyTypes: ['Ingress'],
      ingress: [{ from, ports: [{ protocol: 'TCP', port: PORTS[component] }] }],
    },
  };
}
