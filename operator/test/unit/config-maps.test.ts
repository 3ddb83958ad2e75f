import { expect } from 'chai';
import {
  componentEnvironment,
  dataChecksum,
  featureFlagsConfigMap,
  shutdownTimeoutMs,
} from '../../src/specs/config-maps.js';
import { sampleCluster } from '../support/sample-cluster.js';

describe('configuration and feature-flag ConfigMaps', () => {
  it('sets the documented variables of each service', () => {
    const cluster = sampleCluster();
    expect(componentEnvironment(cluster, 'auth')).to.deep.equal({
      SERVICE_NAME: 'auth',
      PORT: '8081',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '75000',
      FEATURE_FLAGS_FILE: '/etc/chatcluster/flags/flags.json',
      JWT_ISSUER: 'https://chat.example.com',
      JWT_AUDIENCE: 'chatcluster',
    });
    expect(componentEnvironment(cluster, 'message')).to.include({
      AUTH_URL: 'http://prod-auth.chat.svc:8081',
    });
    // notification requires them too (its settings API verifies access tokens).
    expect(componentEnvironment(cluster, 'notification')).to.include({
      JWT_ISSUER: 'https://chat.example.com',
      JWT_AUDIENCE: 'chatcluster',
      AUTH_URL: 'http://prod-auth.chat.svc:8081',
    });
  });

  it('points message at the chat page its image ships only when the page is on', () => {
    expect(componentEnvironment(sampleCluster(), 'message')).to.not.have.property('WEB_DIR');
    const on = sampleCluster({ chatPage: { enabled: true } });
    expect(componentEnvironment(on, 'message')).to.include({ WEB_DIR: '/app/apps/message/web' });
    expect(componentEnvironment(on, 'auth')).to.not.have.property('WEB_DIR');
  });

  it('leaves the kit time to drain inside the grace period: grace - preStop - 5 s', () => {
    expect(
      shutdownTimeoutMs(sampleCluster({ terminationGracePeriodSeconds: 60, preStopDelaySeconds: 15 })),
    ).to.equal(40_000);
  });

  it('writes flags in the kit format: booleans and percentages, sorted', () => {
    const cm = featureFlagsConfigMap(
      sampleCluster({
        featureFlags: { zeta: false, alpha: true },
        featureFlagPercentages: { newComposer: 25 },
      }),
    );
    const text = (cm.data as Record<string, string>)['flags.json']!;
    expect(JSON.parse(text)).to.deep.equal({ alpha: true, newComposer: 25, zeta: false });
    expect(Object.keys(JSON.parse(text) as object)).to.deep.equal(['alpha', 'newComposer', 'zeta']);
  });

  it('checksums data independently of key order', () => {
    expect(dataChecksum({ a: '1', b: '2' })).to.equal(dataChecksum({ b: '2', a: '1' }));
    expect(dataChecksum({ a: '1', b: '2' })).to.not.equal(dataChecksum({ a: '1', b: '3' }));
  });
});
