// Layers and OCI archives are deterministic (same files, same digests, whatever their times and the
// host's umask), and an archive is a valid image layout: every blob is named by its sha256, the
// config's diff_ids are the layers, and index.json names each image for containerd.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createTempDir, removeTempDir, runCommandOrThrow } from '@chatcluster/harness';
import { createLayer } from '../src/layer.js';
import { PLATFORM, describeImage, writeOciArchive } from '../src/oci.js';
import type { ImageLayer } from '../src/oci.js';

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('OCI layers and archives', () => {
  let dir: string;
  beforeEach(() => {
    dir = createTempDir('oci');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  /** A small app tree; `variant` changes file times and modes, never contents. */
  function appTree(name: string, variant: number): string {
    const tree = join(dir, name);
    mkdirSync(join(tree, 'dist/src'), { recursive: true });
    writeFileSync(join(tree, 'package.json'), '{"name":"x"}');
    writeFileSync(join(tree, 'dist/src/main.js'), 'console.log(1)');
    symlinkSync('../package.json', join(tree, 'dist/link.json'));
    chmodSync(join(tree, 'dist/src/main.js'), variant ? 0o664 : 0o600);
    utimesSync(join(tree, 'package.json'), 1000 * variant, 1000 * variant);
    return tree;
  }

  it('a layer depends on contents only, places the tree at its path, owned by root and readable by all', async () => {
    const first = await createLayer(appTree('a', 0), '/app', join(dir, 'a.tar'));
    const second = await createLayer(appTree('b', 1), '/app/', join(dir, 'b.tar'));
    expect(second.digest).to.equal(first.digest);
    expect(first.digest).to.equal(sha256(readFileSync(first.file)));
    const listing = (await runCommandOrThrow('tar', ['--list', '--verbose', '--file', first.file])).stdout;
    expect(listing).to.match(/^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 app\/$/m);
    expect(listing).to.match(/^-rw-r--r-- 0\/0 +14 1970-01-01 00:00 app\/dist\/src\/main\.js$/m);
    expect(listing, 'symlink targets stay as written').to.match(
      / app\/dist\/link\.json -> \.\.\/package\.json$/m,
    );
  });

  it('an archive is deterministic, its blobs verify, and index.json names the images', async () => {
    const tree = appTree('app', 0);
    const shared: ImageLayer = {
      ...(await createLayer(tree, '/', join(dir, 'base.tar'))),
      createdBy: 'base',
    };
    const app: ImageLayer = { ...(await createLayer(tree, '/app', join(dir, 'app.tar'))), createdBy: 'app' };
    const images = [
      {
        reference: 'example.local/one:1.0',
        image: describeImage({ config: { Cmd: ['a'] }, layers: [shared, app] }),
      },
      {
        reference: 'localhost:5000/two:2.0',
        image: describeImage({ config: { Cmd: ['b'] }, layers: [shared] }),
      },
    ];
    await writeOciArchive(images, join(dir, 'first.oci.tar'));
    await writeOciArchive(images, join(dir, 'second.oci.tar'));
    expect(sha256(readFileSync(join(dir, 'second.oci.tar')))).to.equal(
      sha256(readFileSync(join(dir, 'first.oci.tar'))),
    );

    const layout = join(dir, 'layout');
    mkdirSync(layout);
    await runCommandOrThrow('tar', [
      '--extract',
      '--file',
      join(dir, 'first.oci.tar'),
      '--directory',
      layout,
    ]);
    expect(JSON.parse(readFileSync(join(layout, 'oci-layout'), 'utf8'))).to.deep.equal({
      imageLayoutVersion: '1.0.0',
    });
    const blobs = readdirSync(join(layout, 'blobs/sha256'));
    // 2 layers (the shared one once), 2 configs, 2 manifests.
    expect(blobs).to.have.length(6);
    const blob = (digest: string): Buffer => readFileSync(join(layout, 'blobs/sha256', digest.slice(7)));
    for (const name of blobs) expect(sha256(blob(`sha256:${name}`)), name).to.equal(`sha256:${name}`);

    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
      mediaType: string;
      manifests: { digest: string; size: number; platform: object; annotations: Record<string, string> }[];
    };
    expect(index.mediaType).to.equal('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.annotations)).to.deep.equal([
      { 'io.containerd.image.name': 'example.local/one:1.0', 'org.opencontainers.image.ref.name': '1.0' },
      { 'io.containerd.image.name': 'localhost:5000/two:2.0', 'org.opencontainers.image.ref.name': '2.0' },
    ]);
    for (const [i, descriptor] of index.manifests.entries()) {
      expect(descriptor.platform).to.deep.equal(PLATFORM);
      expect(blob(descriptor.digest).length).to.equal(descriptor.size);
      const manifest = JSON.parse(blob(descriptor.digest).toString()) as {
        config: { mediaType: string; digest: string; size: number };
        layers: { mediaType: string; digest: string; size: number }[];
      };
      expect(manifest.config.mediaType).to.equal('application/vnd.oci.image.config.v1+json');
      expect(blob(manifest.config.digest).length).to.equal(manifest.config.size);
      const config = JSON.parse(blob(manifest.config.digest).toString()) as {
        architecture: string;
        os: string;
        config: object;
        rootfs: { type: string; diff_ids: string[] };
        history: { created_by: string }[];
      };
      const layers = images[i]!.image.layers;
      expect(manifest.layers).to.deep.equal(
        layers.map((l) => ({
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: l.digest,
          size: l.size,
        })),
      );
      expect(config.rootfs).to.deep.equal({ type: 'layers', diff_ids: manifest.layers.map((l) => l.digest) });
      expect(config.history.map((h) => h.created_by)).to.deep.equal(layers.map((l) => l.createdBy));
      expect([config.architecture, config.os]).to.deep.equal([PLATFORM.architecture, 'linux']);
      expect(config.config).to.deep.equal(images[i]!.image.config);
    }
  });
});
