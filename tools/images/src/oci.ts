// OCI image layouts (https://github.com/opencontainers/image-spec/blob/main/image-layout.md) as tar
// archives, the form `ctr images import` reads. Each image's manifest descriptor in index.json carries
// its full name (io.containerd.image.name), which is the name containerd imports it under. Nothing
// here depends on time or the host, so the same layers and config always give the same digests.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { exec } from './exec.js';
import { DETERMINISTIC_TAR, linkOrCopy } from './layer.js';
import type { Blob } from './layer.js';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** The `config` object of an OCI image config (the fields these images set). */
export interface ImageConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
}

export interface ImageLayer extends Blob {
  /** The history entry: how the layer was made. */
  createdBy: string;
}

/** What an image is made of: its layers, bottom first, and its config. */
export interface OciImage {
  config: ImageConfig;
  layers: ImageLayer[];
}

interface JsonBlob {
  digest: string;
  size: number;
  bytes: Buffer;
}

/** An image with its config and manifest serialized. */
export interface DescribedImage extends OciImage {
  configBlob: JsonBlob;
  manifestBlob: JsonBlob;
}

/** An image and the full name it is imported under, e.g. `registry.k8s.io/pause:3.10`. */
export interface NamedImage {
  reference: string;
  image: DescribedImage;
}

const jsonBlob = (value: unknown): JsonBlob => {
  const bytes = Buffer.from(JSON.stringify(value));
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, bytes };
};

/** The platform images built on this machine are for, in OCI's terms. */
export const PLATFORM = {
  architecture: ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch,
  os: 'linux',
};

/**
 * Serializes the image's config and manifest. The name is not part of either, so the manifest digest
 * is known before the name (the app images' tag is derived from it).
 */
export function describeImage(image: OciImage): DescribedImage {
  const configBlob = jsonBlob({
    ...PLATFORM,
    config: image.config,
    // Layers are uncompressed, so each diff_id is the layer's own digest.
    rootfs: { type: 'layers', diff_ids: image.layers.map((l) => l.digest) },
    history: image.layers.map((l) => ({ created_by: l.createdBy })),
  });
  const manifestBlob = jsonBlob({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: configBlob.digest, size: configBlob.size },
    layers: image.layers.map((l) => ({ mediaType: MEDIA_TYPES.layer, digest: l.digest, size: l.size })),
  });
  return { ...image, configBlob, manifestBlob };
}

/** `registry.k8s.io/pause:3.10` → `3.10` (a port in the registry host is not a tag). */
export function tagOf(reference: string): string {
  const name = reference.slice(reference.lastIndexOf('/') + 1);
  if (!name.includes(':')) throw new Error(`images: ${reference} has no tag`);
  return name.slice(name.indexOf(':') + 1);
}

/** index.json: one manifest per image, named for containerd (full name) and for OCI tools (tag). */
export function ociIndex(images: NamedImage[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: images.map(({ reference, image }) => ({
        mediaType: MEDIA_TYPES.manifest,
        digest: image.manifestBlob.digest,
        size: image.manifestBlob.size,
        platform: PLATFORM,
        annotations: {
          'io.containerd.image.name': reference,
          'org.opencontainers.image.ref.name': tagOf(reference),
        },
      })),
    }),
  );
}

/**
 * Writes the images as one OCI layout tar at `file` (atomically: a partial file never has the final
 * name). A blob shared by several images (the base layer) is stored once.
 */
export async function writeOciArchive(images: NamedImage[], file: string): Promise<void> {
  const staging = await mkdtemp(join(dirname(file), `.${basename(file)}.`));
  try {
    const blobs = join(staging, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const blobPath = (digest: string): string => join(blobs, digest.slice('sha256:'.length));
    await writeFile(join(staging, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(staging, 'index.json'), ociIndex(images));
    const layers = new Map<string, string>();
    for (const { image } of images) {
      await writeFile(blobPath(image.configBlob.digest), image.configBlob.bytes);
      await writeFile(blobPath(image.manifestBlob.digest), image.manifestBlob.bytes);
      for (const layer of image.layers) layers.set(layer.digest, layer.file);
    }
    for (const [digest, layerFile] of layers) await linkOrCopy(layerFile, blobPath(digest));
    const partial = join(staging, 'archive.tar');
    await exec('tar', [
      '--create',
      `--file=${partial}`,
      `--directory=${staging}`,
      ...DETERMINISTIC_TAR,
      'oci-layout',
      'index.json',
      'blobs',
    ]);
    await rename(partial, file);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
