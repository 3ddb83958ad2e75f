// @chatcluster/images: the local cluster's container images, built without Docker or a registry and
// imported into its containerd. buildAndImportImages is the entry point; the rest is exported for
// tools that need one step.
export {
  APP_COMPONENTS,
  DEFAULT_REPOSITORY,
  PAUSE_IMAGE,
  appImageConfig,
  buildAndImportImages,
  buildAndImportVariant,
  cacheDir,
} from './build.js';
export type { AppComponent, BuildAndImportOptions, BuiltImages, ImageName, VariantOptions } from './build.js';
export { importArchive, listImages } from './containerd-import.js';
export type { ContainerdTarget } from './containerd-import.js';
export { appImageSpec, parseDockerfile, runtimeConfig } from './dockerfile.js';
export type { AppImageSpec, Instruction, RuntimeConfig, Stage } from './dockerfile.js';
export { createLayer, describeFile } from './layer.js';
export type { Blob } from './layer.js';
export { describeImage, ociIndex, writeOciArchive } from './oci.js';
export type { DescribedImage, ImageConfig, ImageLayer, NamedImage, OciImage } from './oci.js';
