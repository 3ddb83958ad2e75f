// A rotated Secret rolls the pods that read it: the operator reads the Secrets the pod templates
// name (get by name), and a changed one changes the template's checksum annotation, on a real API
// server. Only the components that read the Secret roll; a metadata-only change rolls nothing; and
// no value reaches the operator's log or the ChatCluster's status.
import { expect } from 'chai';
import type { Operator } from '../../src/controller/operator.js';
import { OTHER_TYPES } from '../../src/kube/resources.js';
import { REFERENCED_DATA_CHECKSUM_ANNOTATION } from '../../src/specs/meta.js';
import {
  MemoryLog,
  chatCluster,
  createNamespace,
  createSecrets,
  eventually,
  getObject,
  newOperator,
  startTestCluster,
  type TestCluster,
} from '../support/test-cluster.js';

const SECRET = OTHER_TYPES.find((t) => t.kind === 'Secret')!;
const NEW_PASSWORD = 'rotated-s3cret-value';

describe('a changed Secret rolls the pods that read it', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let operator: Operator;
  let ns: string;
  const log = new MemoryLog();

  const checksums = async (): Promise<Record<string, string | undefined>> => {
    const out: Record<string, string | undefined> = {};
    for (const component of ['auth', 'message', 'notification']) {
      const d = (await getObject(cluster.admin, 'Deployment', ns, `chat-${component}`)) as
        { spec: { template: { metadata: { annotations?: Record<string, string> } } } } | undefined;
      out[component] = d?.spec.template.metadata.annotations?.[REFERENCED_DATA_CHECKSUM_ANNOTATION];
    }
    return out;
  };

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: false });
    operator = newOperator(cluster, { log, referencedDataPollIntervalMs: 300 });
    operator.start();
    ns = await createNamespace(cluster.admin);
    await createSecrets(cluster.admin, ns);
    await cluster.admin.create(chatCluster(ns, 'chat'));
    await operator.waitForIdle();
  });

  after(async function () {
    this.timeout(60_000);
    await operator?.stop();
    await cluster?.stop();
  });

  it('changes the checksum of the components reading a rotated Secret, and of no other', async () => {
    const before = await checksums();
    expect(
      Object.values(before).every((c) => /^[0-9a-f]{64}$/.test(c ?? '')),
      JSON.stringify(before),
    ).to.equal(true);
    await cluster.admin.mergePatch(SECRET, ns, 'chat-postgres', {
      stringData: { url: `postgres://chat:${NEW_PASSWORD}@postgres:5432/chat` },
    });
    const after = await eventually('the auth template to change', async () => {
      const now = await checksums();
      return now.auth !== before.auth ? now : undefined;
    });
    // Only auth reads the PostgreSQL Secret.
    expect(after.message).to.equal(before.message);
    expect(after.notification).to.equal(before.notification);
  });

  it('rolls every component when the Secret they all read (Redis) changes', async () => {
    const before = await checksums();
    await cluster.admin.mergePatch(SECRET, ns, 'chat-redis', {
      stringData: { url: 'redis://:another-password@redis:6379' },
    });
    const after = await eventually('every template to change', async () => {
      const now = await checksums();
      return Object.keys(now).every((c) => now[c] !== before[c]) ? now : undefined;
    });
    expect(after).to.not.deep.equal(before);
  });

  it('rolls nothing when only the Secret metadata changes', async () => {
    await operator.waitForIdle();
    const before = await checksums();
    await cluster.admin.mergePatch(SECRET, ns, 'chat-mongodb', {
      metadata: { labels: { 'example.com/rotated-by': 'someone' } },
    });
    await new Promise((r) => setTimeout(r, 1500)); // five poll intervals
    await operator.waitForIdle();
    expect(await checksums()).to.deep.equal(before);
  });

  it('puts no Secret value in its log or the status', async () => {
    const chat = await getObject(cluster.admin, 'ChatCluster', ns, 'chat');
    expect(JSON.stringify(chat?.status)).to.not.include(NEW_PASSWORD);
    const logged = JSON.stringify(log.lines);
    expect(logged).to.include('referenced Secret or ConfigMap changed');
    expect(logged).to.not.include(NEW_PASSWORD);
    expect(logged).to.not.include('another-password');
  });
});
