// Builds the local cluster's images without Docker or a registry, and imports them into its containerd:
// - the pod sandbox (pause), CoreDNS and the Argo Rollouts controller, each one layer holding the
//   binary tools/setup built;
// - auth, message, notification and the operator from their Dockerfiles: the build stage's
//   `assemble.mjs` runs on this machine, and the runtime stage's distroless base is replaced by the
//   base rootfs tools/setup/base-image.sh built (Debian + this machine's Node 20).
// An image containerd already holds under its name and digest is not imported again; the app images'
// tag is derived from their contents, so changed sources give new names.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importArchive, listImages } from './containerd-import.js';
import type { ContainerdTarget } from './containerd-import.js';
import { appImageSpec } from './dockerfile.js';
import type { AppImageSpec, RuntimeConfig } from './dockerfile.js';
import { exec } from './exec.js';
import { createLayer, describeFile, linkOrCopy } from './layer.js';
import { describeImage, writeOciArchive, ociIndex } from './oci.js';
import type { DescribedImage, ImageConfig, ImageLayer, NamedImage } from './oci.js';

export const APP_COMPONENTS = ['auth', 'message', 'notification', 'operator'] as const;
export type AppComponent = (typeof APP_COMPONENTS)[number];
export type ImageName =
  | 'pause'
  | 'coredns'
  | 'argo-rollouts'
  | 'prometheus'
  | 'prometheus-operator'
  | 'prometheus-config-reloader'
  | AppComponent;

/** The name containerd's CRI `sandbox_image` asks for; it is never pulled, so it must be this one. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const DEFAULT_REPOSITORY = 'chatcluster.local';

export interface BuildAndImportOptions {
  /** The gRPC socket of the containerd to import into (namespace k8s.io). */
  containerdSocket: string;
  /** Where the app images are named, as in a ChatCluster's `spec.image.repository`. */
  repository?: string;
  /** Progress lines: what was built, cached or imported, and how long it took. */
  log?: (line: string) => void;
}

export interface BuiltImages {
  /** The app images' tag, for a ChatCluster's `spec.image.version`. */
  tag: string;
  images: Record<ImageName, string>;
}

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DOCKERFILES: Record<AppComponent, string> = {
  auth: 'apps/auth/Dockerfile',
  message: 'apps/message/Dockerfile',
  notification: 'apps/notification/Dockerfile',
  operator: 'operator/Dockerfile',
};

/** The build cache, as tools/setup/lib.sh computes it: `${CHATCLUSTER_CACHE:-$HOME/.cache/chatcluster}`. */
export function cacheDir(): string {
  return process.env.CHATCLUSTER_CACHE || join(process.env.HOME || homedir(), '.cache', 'chatcluster');
}

/** The base rootfs' image config: what distroless' nodejs20 image sets, with this base's node path. */
const BASE_CONFIG: ImageConfig = {
  Env: [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
  ],
  Entrypoint: ['/usr/local/bin/node'],
};

/**
 * The image config `docker build` would give the runtime stage on top of `base`: the stage's ENV
 * added to the base's (replacing a variable of the same name), its ENTRYPOINT or the base's, the rest
 * from the stage.
 */
export function appImageConfig(base: ImageConfig, stage: RuntimeConfig): ImageConfig {
  const name = (variable: string): string => variable.slice(0, variable.indexOf('='));
  const overridden = new Set(stage.env.map(name));
  const config: ImageConfig = {
    Env: [...(base.Env ?? []).filter((e) => !overridden.has(name(e))), ...stage.env],
  };
  const entrypoint = stage.entrypoint ?? base.Entrypoint;
  if (entrypoint) config.Entrypoint = entrypoint;
  // A base's CMD only survives when the stage sets neither CMD nor ENTRYPOINT.
  const cmd = stage.cmd ?? (stage.entrypoint ? undefined : base.Cmd);
  if (cmd) config.Cmd = cmd;
  const workingDir = stage.workingDir ?? base.WorkingDir;
  if (workingDir) config.WorkingDir = workingDir;
  const user = stage.user ?? base.User;
  if (user) config.User = user;
  const ports = [...Object.keys(base.ExposedPorts ?? {}), ...stage.exposedPorts];
  if (ports.length > 0) config.ExposedPorts = Object.fromEntries(ports.map((p) => [p, {}]));
  return config;
}

/** Seconds since a start, for progress lines. */
function stopwatch(): () => string {
  const started = performance.now();
  return () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
}

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export async function buildAndImportImages(options: BuildAndImportOptions): Promise<BuiltImages> {
  const log = options.log ?? (() => {});
  const total = stopwatch();
  const imagesDir = join(cacheDir(), 'images');
  const input = (file: string, madeBy: string): string => {
    if (!existsSync(file))
      throw new Error(`images: ${file} is missing; run make setup (${madeBy} builds it)`);
    return file;
  };
  const inputs = {
    baseRootfs: input(join(imagesDir, 'base-rootfs.tar'), 'tools/setup/base-image.sh'),
    pause: input(join(cacheDir(), 'bin', 'pause'), 'tools/setup/go-tools.sh'),
    coredns: input(join(cacheDir(), 'bin', 'coredns'), 'tools/setup/go-tools.sh'),
    argoRollouts: input(join(cacheDir(), 'bin', 'rollouts-controller'), 'tools/setup/go-tools.sh'),
    prometheus: input(join(cacheDir(), 'bin', 'prometheus'), 'tools/setup/go-tools.sh'),
    prometheusOperator: input(join(cacheDir(), 'bin', 'prometheus-operator'), 'tools/setup/go-tools.sh'),
    configReloader: input(join(cacheDir(), 'bin', 'prometheus-config-reloader'), 'tools/setup/go-tools.sh'),
  };
  // Scratch space next to the cache, so layers can be hard-linked into the archives.
  await mkdir(imagesDir, { recursive: true });
  await removeAbandonedScratch(imagesDir);
  const work = await mkdtemp(join(imagesDir, `.build-${process.pid}-`));
  try {
    let watch = stopwatch();
    const pause = await binaryImage(inputs.pause, 'pause', work, {
      User: '65535:65535', // as the upstream pause image
      Entrypoint: ['/pause'],
    });
    const coredns = await binaryImage(inputs.coredns, 'coredns', work, {
      Entrypoint: ['/coredns'],
      ExposedPorts: { '53/tcp': {}, '53/udp': {} },
    });
    // As upstream's image: the controller as uid 999 (its manifest asks runAsNonRoot without a uid).
    const argoRollouts = await binaryImage(inputs.argoRollouts, 'rollouts-controller', work, {
      User: '999',
      Entrypoint: ['/rollouts-controller'],
    });
    // The Prometheus Operator's three images as upstream lays them out: the operator starts the
    // Prometheus container through its image's entrypoint and the reloader as /bin/prometheus-config-reloader.
    const prometheus = await binaryImage(
      inputs.prometheus,
      'prometheus',
      work,
      { User: '65534', WorkingDir: '/prometheus', Entrypoint: ['/bin/prometheus'] },
      '/bin',
    );
    const prometheusOperator = await binaryImage(
      inputs.prometheusOperator,
      'operator',
      work,
      { User: '65534', Entrypoint: ['/bin/operator'] },
      '/bin',
    );
    const configReloader = await binaryImage(
      inputs.configReloader,
      'prometheus-config-reloader',
      work,
      { User: '65534', Entrypoint: ['/bin/prometheus-config-reloader'] },
      '/bin',
    );
    log(`layered pause, coredns, argo-rollouts and the Prometheus Operator's images (${watch()})`);

    watch = stopwatch();
    const base: ImageLayer = {
      ...(await describeFile(inputs.baseRootfs)),
      createdBy: 'tools/setup/base-image.sh: Debian bookworm (essential) + ca-certificates, libstdc++6, node',
    };
    log(`base rootfs ${base.digest.slice(7, 19)}, ${megabytes(base.size)} (${watch()})`);
    const apps = await appImages(base, work, log);

    const repository = options.repository ?? DEFAULT_REPOSITORY;
    const tag = await appTag(base, apps);
    const images = {
      pause: PAUSE_IMAGE,
      coredns: `${repository}/coredns:${await corednsVersion()}`,
      'argo-rollouts': `${repository}/argo-rollouts:${await pinnedVersion('ARGO_ROLLOUTS_VERSION')}`,
      prometheus: `${repository}/prometheus:v${await pinnedVersion('PROMETHEUS_SERVER_VERSION')}`,
      'prometheus-operator': `${repository}/prometheus-operator:${await pinnedVersion('PROMETHEUS_OPERATOR_VERSION')}`,
      'prometheus-config-reloader': `${repository}/prometheus-config-reloader:${await pinnedVersion('PROMETHEUS_OPERATOR_VERSION')}`,
      ...Object.fromEntries(apps.map(({ component }) => [component, `${repository}/${component}:${tag}`])),
    } as Record<ImageName, string>;
    // The four apps share one archive: their base layer is stored and imported once.
    await importMissing({ socket: options.containerdSocket }, imagesDir, log, [
      ['pause', [{ reference: images.pause, image: pause }]],
      ['coredns', [{ reference: images.coredns, image: coredns }]],
      ['argo-rollouts', [{ reference: images['argo-rollouts'], image: argoRollouts }]],
      ['prometheus', [{ reference: images.prometheus, image: prometheus }]],
      [
        'prometheus-operator',
        [
          { reference: images['prometheus-operator'], image: prometheusOperator },
          { reference: images['prometheus-config-reloader'], image: configReloader },
        ],
      ],
      ['apps', apps.map(({ component, image }) => ({ reference: images[component], image }))],
    ]);
    log(`images ready (${total()})`);
    return { tag, images };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface VariantOptions {
  containerdSocket: string;
  component: AppComponent;
  /** The variant's tag, e.g. `<tag>-faulty`. */
  tag: string;
  /** Environment the variant's image adds: the configuration that makes this version differ. */
  env: Record<string, string>;
  repository?: string;
  log?: (line: string) => void;
}

/**
 * One app image built as buildAndImportImages builds it, with `env` added to its config, imported
 * under `tag`: a release whose only difference is its configuration (the canary journeys' bad builds).
 */
export async function buildAndImportVariant(options: VariantOptions): Promise<string> {
  const log = options.log ?? (() => {});
  const imagesDir = join(cacheDir(), 'images');
  const work = await mkdtemp(join(imagesDir, `.build-${process.pid}-`));
  try {
    const base: ImageLayer = {
      ...(await describeFile(join(imagesDir, 'base-rootfs.tar'))),
      createdBy: 'tools/setup/base-image.sh: Debian bookworm (essential) + ca-certificates, libstdc++6, node',
    };
    const spec = appImageSpec(await readFile(join(ROOT, DOCKERFILES[options.component]), 'utf8'));
    const { image } = await appImage(options.component, spec, base, work, log, options.env);
    const reference = `${options.repository ?? DEFAULT_REPOSITORY}/${options.component}:${options.tag}`;
    await importMissing({ socket: options.containerdSocket }, imagesDir, log, [
      [`variant-${options.component}`, [{ reference, image }]],
    ]);
    return reference;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** An image of one static binary at <directory>/<name>. */
async function binaryImage(
  binary: string,
  name: string,
  work: string,
  config: ImageConfig,
  directory = '/',
): Promise<DescribedImage> {
  // Apart from the app images' scratch (`<work>/<component>`): the Prometheus Operator's binary is
  // also called `operator`.
  const dir = join(work, `binary-${name}`);
  await mkdir(dir);
  await linkOrCopy(binary, join(dir, name));
  const layer = await createLayer(dir, directory, join(work, `binary-${name}.tar`));
  const target = `${directory.replace(/\/+$/, '')}/${name}`;
  return describeImage({ config, layers: [{ ...layer, createdBy: `COPY ${name} ${target}` }] });
}

interface AppImage {
  component: AppComponent;
  image: DescribedImage;
}

/** The four Dockerfiles reproduced: their build stages on this machine, their runtime stages on `base`. */
async function appImages(base: ImageLayer, work: string, log: (line: string) => void): Promise<AppImage[]> {
  const specs = await Promise.all(
    APP_COMPONENTS.map(
      async (component) =>
        [component, appImageSpec(await readFile(join(ROOT, DOCKERFILES[component]), 'utf8'))] as const,
    ),
  );
  // The build stages' RUN line is `npm ci && npx tsc -b <workspace> && assemble.mjs`: the first two are
  // `make setup` and `make build`, which `make dev` and `make test` run first; assembly happens below.
  const runtimeBases = [...new Set(specs.map(([, spec]) => spec.runtimeFrom))].join(', ');
  log(`the runtime stages' base (${runtimeBases}) is replaced by the local base rootfs`);
  return Promise.all(specs.map(([component, spec]) => appImage(component, spec, base, work, log)));
}

/** Reproduces one Dockerfile: its build stage's assembly, its runtime stage on the local base. */
async function appImage(
  component: AppComponent,
  spec: AppImageSpec,
  base: ImageLayer,
  work: string,
  log: (line: string) => void,
  extraEnv: Record<string, string> = {},
): Promise<AppImage> {
  const watch = stopwatch();
  const assembled = join(work, component);
  await exec(process.execPath, ['tools/images/assemble.mjs', spec.workspace, assembled], { cwd: ROOT });
  const app = await createLayer(assembled, spec.appPath, join(work, `${component}.tar`));
  const config = appImageConfig(BASE_CONFIG, spec.config);
  const added = Object.entries(extraEnv).map(([name, value]) => `${name}=${value}`);
  if (added.length > 0) config.Env = [...(config.Env ?? []), ...added];
  const image = describeImage({
    config,
    layers: [
      base,
      { ...app, createdBy: `COPY --from=build /out ${spec.appPath} (assemble.mjs ${spec.workspace})` },
    ],
  });
  log(`${component}: assembled ${spec.workspace} as ${spec.appPath}, ${megabytes(app.size)} (${watch()})`);
  return { component, image };
}

/**
 * One tag for the four app images (the operator names them all with one version): the chart's
 * appVersion and a hash of their contents, so the same sources give the same tag and a change a new one.
 */
async function appTag(base: ImageLayer, apps: AppImage[]): Promise<string> {
  const chart = await readFile(join(ROOT, 'charts/chatcluster-operator/Chart.yaml'), 'utf8');
  const appVersion = /^appVersion:\s*'?([^'\s]+)'?/m.exec(chart)?.[1];
  if (!appVersion) throw new Error('images: no appVersion in charts/chatcluster-operator/Chart.yaml');
  const hash = createHash('sha256').update(`base ${base.digest}\n`);
  for (const { component, image } of apps) hash.update(`${component} ${image.manifestBlob.digest}\n`);
  return `${appVersion}-${hash.digest('hex').slice(0, 12)}`;
}

/** A version pinned in tools/versions.env, e.g. `ARGO_ROLLOUTS_VERSION` -> `v1.8.5`. */
async function pinnedVersion(name: string): Promise<string> {
  const versions = await readFile(join(ROOT, 'tools/versions.env'), 'utf8');
  const version = new RegExp(`^${name}=(\\S+)$`, 'm').exec(versions)?.[1];
  if (!version) throw new Error(`images: no ${name} in tools/versions.env`);
  return version;
}

/** The CoreDNS version tools/go/coredns builds, e.g. `v1.13.2`. */
async function corednsVersion(): Promise<string> {
  const goMod = await readFile(join(ROOT, 'tools/go/coredns/go.mod'), 'utf8');
  const version = /github\.com\/coredns\/coredns (v\S+)/.exec(goMod)?.[1];
  if (!version) throw new Error('images: no github.com/coredns/coredns version in tools/go/coredns/go.mod');
  return version;
}

/**
 * Imports each group of images unless containerd already holds every one of them under its name with
 * the same manifest digest; a group's archive is written only when it is imported.
 */
async function importMissing(
  target: ContainerdTarget,
  imagesDir: string,
  log: (line: string) => void,
  groups: [label: string, images: NamedImage[]][],
): Promise<void> {
  const present = await listImages(target);
  for (const [label, images] of groups) {
    const references = images.map(({ reference }) => reference).join(', ');
    if (images.every(({ reference, image }) => present.get(reference) === image.manifestBlob.digest)) {
      log(`${references}: already in containerd`);
      continue;
    }
    const file = await cachedArchive(imagesDir, label, images, log);
    const watch = stopwatch();
    await importArchive(target, file);
    log(`imported ${references} (${watch()})`);
  }
}

/** Scratch directories of builds whose process is gone (killed before its cleanup ran). */
async function removeAbandonedScratch(imagesDir: string): Promise<void> {
  for (const entry of await readdir(imagesDir)) {
    const pid = /^\.build-(\d+)-/.exec(entry)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    await rm(join(imagesDir, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The archive of these images in the cache, named after its index.json (names and manifest digests,
 * which cover every layer and config): written only when no archive has that content yet. Older
 * archives of the same label are removed, so the cache does not grow with every change.
 */
async function cachedArchive(
  imagesDir: string,
  label: string,
  images: NamedImage[],
  log: (line: string) => void,
): Promise<string> {
  const name = `${label}-${createHash('sha256').update(ociIndex(images)).digest('hex').slice(0, 16)}.oci.tar`;
  const file = join(imagesDir, name);
  if (existsSync(file)) {
    log(`${name}: cached`);
    return file;
  }
  const watch = stopwatch();
  await writeOciArchive(images, file);
  for (const old of await readdir(imagesDir)) {
    if (old === name || !old.startsWith(`${label}-`) || !old.endsWith('.oci.tar')) continue;
    // One written in the last hour may be about to be imported by another build (another repository).
    const { mtimeMs } = await stat(join(imagesDir, old));
    if (Date.now() - mtimeMs > 3_600_000) await rm(join(imagesDir, old), { force: true });
  }
  log(`wrote ${file}, ${megabytes((await stat(file)).size)} (${watch()})`);
  return file;
}
