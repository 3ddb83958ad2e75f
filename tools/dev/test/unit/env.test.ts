import { expect } from 'chai';
import { EnvResolutionError, expandReferences, resolveEnv, type EnvSources } from '../../src/runner/env.js';
import {
  rewriteMounts,
  rewritePorts,
  rewriteServiceAddress,
  serviceReferences,
} from '../../src/runner/local-rewrites.js';
import type { Container } from '../../src/runner/types.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const sources: EnvSources = {
  configMap: (ns, name) =>
    ns === 'ns' && name === 'app-config'
      ? { metadata: { name }, data: { PORT: '8081', LOG_LEVEL: 'debug', 'not valid!': 'x' } }
      : undefined,
  secret: (ns, name) =>
    ns === 'ns' && name === 'db'
      ? { metadata: { name }, data: { url: b64('postgres://u:p@h/db') } }
      : undefined,
};
const pod = { name: 'app-abc-12345', namespace: 'ns', uid: 'u1', labels: { app: 'x' }, annotations: {} };

describe('dev runner: environment as the kubelet builds it', () => {
  it('resolves envFrom, secretKeyRef, configMapKeyRef, fieldRef and $(VAR) references, env after envFrom', () => {
    const container: Container = {
      name: 'app',
      image: 'x/app:1',
      envFrom: [{ configMapRef: { name: 'app-config' } }, { prefix: 'DB_', secretRef: { name: 'db' } }],
      env: [
        { name: 'LOG_LEVEL', value: 'warn' },
        { name: 'POSTGRES_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
        { name: 'LEVEL_COPY', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'LOG_LEVEL' } } },
        { name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'APP_LABEL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'GREETING', value: 'id=$(INSTANCE_ID) keep=$$(INSTANCE_ID) unknown=$(NOPE)' },
        { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'missing', key: 'k', optional: true } } },
      ],
    };
    const { env, warnings } = resolveEnv(container, pod, sources);
    expect(env).to.deep.equal({
      PORT: '8081',
      LOG_LEVEL: 'warn',
      DB_url: 'postgres://u:p@h/db',
      POSTGRES_URL: 'postgres://u:p@h/db',
      LEVEL_COPY: 'debug',
      INSTANCE_ID: 'app-abc-12345',
      APP_LABEL: 'x',
      GREETING: 'id=app-abc-12345 keep=$(INSTANCE_ID) unknown=$(NOPE)',
    });
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.contain('not valid!');
  });

  it('fails like CreateContainerConfigError on a missing Secret or key that is not optional', () => {
    const missingSecret: Container = {
      name: 'a',
      image: 'i',
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'url' } } }],
    };
    expect(() => resolveEnv(missingSecret, pod, sources)).to.throw(
      EnvResolutionError,
      'secret "nope" not found',
    );
    const missingKey: Container = {
      name: 'a',
      image: 'i',
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
    };
    expect(() => resolveEnv(missingKey, pod, sources)).to.throw(
      EnvResolutionError,
      "couldn't find key password",
    );
  });

  it('expands only earlier variables', () => {
    expect(expandReferences('$(A)-$(B)', { A: '1' })).to.equal('1-$(B)');
  });

  it('gives each replica its own port, points Service addresses at the local proxy and mounts at local dirs', () => {
    const ports = new Map([[8081, 40001]]);
    expect(rewritePorts({ PORT: '8081', OTHER: '8081' }, [{ containerPort: 8081 }], ports)).to.deep.equal({
      PORT: '40001',
      OTHER: '8081',
    });
    expect(rewritePorts({}, [{ containerPort: 8081 }], ports)).to.deep.equal({ PORT: '40001' });
    const services = [{ name: 'chat-auth', namespace: 'default', ports: new Map([[8081, 45000]]) }];
    expect(rewriteServiceAddress('http://chat-auth.default.svc:8081/x', services)).to.equal(
      'http://127.0.0.1:45000/x',
    );
    expect(rewriteServiceAddress('http://chat-auth.default.svc.cluster.local', services)).to.equal(
      'http://127.0.0.1:45000',
    );
    expect(rewriteServiceAddress('http://chat-auth.other.svc:8081', services)).to.equal(
      'http://chat-auth.other.svc:8081',
    );
    expect(rewriteServiceAddress('http://my-chat-auth.default.svc:8081', services)).to.equal(
      'http://my-chat-auth.default.svc:8081',
    );
    expect(
      serviceReferences(
        'a=http://chat-auth.default.svc:8081/x,b=redis://r.ns.svc.cluster.local:6379,c=x.y:1,d=http://n.ns.svc',
      ),
    ).to.deep.equal([
      { name: 'chat-auth', namespace: 'default', port: 8081 },
      { name: 'r', namespace: 'ns', port: 6379 },
    ]);
    expect(serviceReferences('http://my.chat-auth.default.svc:8081')).to.deep.equal([]);
    const local = (p: string) => (p.startsWith('/etc/flags') ? `/tmp/pod/volumes/flags${p.slice(10)}` : p);
    expect(rewriteMounts({ F: '/etc/flags/flags.json', U: 'http://x/etc/flags' }, local)).to.deep.equal({
      F: '/tmp/pod/volumes/flags/flags.json',
      U: 'http://x/etc/flags',
    });
  });
});
