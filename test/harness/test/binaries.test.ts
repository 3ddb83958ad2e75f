import { expect } from 'chai';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  cacheDir,
  createTempDir,
  freePort,
  locateBinary,
  pinnedVersion,
  removeTempDir,
  thirdPartyCrdFiles,
} from '../src/index.js';
import type { BinaryName } from '../src/index.js';

const everyBinary: BinaryName[] = [
  'initdb',
  'postgres',
  'redis-server',
  'prometheus',
  'promtool',
  'prometheus-alertmanager',
  'amtool',
  'openssl',
  'etcd',
  'kube-apiserver',
  'kubectl',
  'ferretdb',
  'helm',
  'toxiproxy-server',
];

describe('harness: binaries, ports and versions', function () {
  const savedCache = process.env.CHATCLUSTER_CACHE;
  afterEach(() => {
    if (savedCache === undefined) delete process.env.CHATCLUSTER_CACHE;
    else process.env.CHATCLUSTER_CACHE = savedCache;
  });

  it('finds every component that make setup installs', () => {
    const missing: string[] = [];
    for (const name of everyBinary) {
      try {
        locateBinary(name);
      } catch (error) {
        missing.push((error as Error).message);
      }
    }
    expect(missing, missing.join('\n')).to.deep.equal([]);
    expect(locateBinary('postgres')).to.equal(
      `/usr/lib/postgresql/${pinnedVersion('POSTGRES_MAJOR')}/bin/postgres`,
    );
  });

  it('uses the cache directory of tools/setup/lib.sh', () => {
    process.env.CHATCLUSTER_CACHE = '/somewhere/else';
    expect(cacheDir()).to.equal('/somewhere/else');
    // lib.sh uses ${CHATCLUSTER_CACHE:-...}, so an empty value means the default.
    process.env.CHATCLUSTER_CACHE = '';
    expect(cacheDir()).to.equal(join(process.env.HOME || homedir(), '.cache', 'chatcluster'));
  });

  it('names the missing binary and the fix', async () => {
    const empty = createTempDir('empty-cache');
    try {
      process.env.CHATCLUSTER_CACHE = empty;
      expect(() => locateBinary('etcd')).to.throw(
        `harness: etcd not found at ${join(empty, 'bin', 'etcd')}; run make setup (tools/setup/go-tools.sh`,
      );
      expect(() => thirdPartyCrdFiles()).to.throw(/^harness: third-party CRDs missing .*; run make setup/);
    } finally {
      await removeTempDir(empty);
    }
  });

  it('lists the third-party CRD files from the cache', () => {
    const files = thirdPartyCrdFiles();
    expect(files).to.have.length(8);
    expect(files).to.include(join(cacheDir(), 'crds', 'rollout-crd.yaml'));
  });

  it('hands out distinct free loopback ports', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    expect(new Set(ports).size).to.equal(3);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
