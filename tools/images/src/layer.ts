// Image layers: uncompressed tars whose bytes depend only on the files' contents, names and modes
// (sorted names, zero times, root ownership, normalized permissions), so unchanged sources give an
// unchanged digest and containerd keeps what it already has.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, stat } from 'node:fs/promises';
import { exec } from './exec.js';

export interface Blob {
  file: string;
  /** `sha256:<hex>` */
  digest: string;
  size: number;
}

/** GNU tar flags that make an archive depend on its files' names and contents only: sorted, zero
 * times, root-owned, readable by everyone and writable by no group or other (whatever the host's
 * umask made of them). */
export const DETERMINISTIC_TAR = [
  '--format=gnu',
  '--sort=name',
  '--mtime=@0',
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  '--mode=a+rX,go-w',
] as const;

/**
 * Tars the contents of `directory` so they land at `imagePath` in the image (`/` or e.g. `/app`).
 * Files are owned by root and readable by everyone (the images run as a non-root user); group and
 * others never get write access, whatever the host's umask made of them.
 */
export async function createLayer(directory: string, imagePath: string, file: string): Promise<Blob> {
  const placement = imagePath.replace(/^\/+|\/+$/g, '');
  await exec('tar', [
    '--create',
    `--file=${file}`,
    `--directory=${directory}`,
    ...DETERMINISTIC_TAR,
    // `./x` becomes `app/x`; symlink targets (S) are left as written.
    ...(placement ? [`--transform=s,^\\.,${placement},S`] : []),
    '.',
  ]);
  return describeFile(file);
}

/** The digest and size of a file, read as a stream (layers are hundreds of MB). */
export async function describeFile(file: string): Promise<Blob> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { file, digest: `sha256:${hash.digest('hex')}`, size: (await stat(file)).size };
}

/** A hard link saves copying hundreds of MB when both paths are on one file system. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}
