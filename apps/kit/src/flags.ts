// Feature flags from a JSON file (a mounted ConfigMap), reloaded live. A bad edit never takes the
// service down: the last good flags stay in force and the problem is logged.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** `true`/`false`, or a number 0-100: the percentage of keys (users, channels) that get the feature. */
export type FlagValue = boolean | number;
export type FlagValues = Readonly<Record<string, FlagValue>>;

const flagFileSchema = z.record(z.string(), z.union([z.boolean(), z.number().min(0).max(100)]));

export interface FeatureFlagsOptions {
  file: string;
  logger: Logger;
  metrics?: Metrics;
  /** Content check interval, the fallback when watch events are missed (default 5000). */
  pollIntervalMs?: number;
  /** Watch the file's directory for changes (default true); polling alone is slower but works everywhere. */
  watch?: boolean;
}

type Gauge = ReturnType<Metrics['gauge']>;

/** Events from one ConfigMap swap come in a burst; read the file once they settle. */
const watchSettleMs = 20;

export class FeatureFlags {
  #values: FlagValues;
  readonly #gauge: Gauge | undefined;
  readonly #listeners = new Set<(values: FlagValues) => void>();
  readonly #stoppers: (() => void)[] = [];

  private constructor(values: FlagValues, metrics?: Metrics) {
    this.#values = values;
    this.#gauge = metrics?.gauge('feature_flag', 'Feature flag values: 1/0, or the rollout share 0-1.', [
      'flag',
    ]);
    this.#publish();
  }

  /** Flags that never change, for tests and services run without a flags file. */
  static fixed(values: FlagValues, metrics?: Metrics): FeatureFlags {
    return new FeatureFlags(flagFileSchema.parse(values), metrics);
  }

  /**
   * Reads `file` and keeps it current. Kubernetes updates a ConfigMap volume by swapping a `..data`
   * symlink in the directory, which a watch on the file itself misses; so the directory is watched,
   * and the content is also polled. A missing or invalid file at start means no flags, logged.
   */
  static async load(options: FeatureFlagsOptions): Promise<FeatureFlags> {
    const flags = new FeatureFlags({}, options.metrics);
    const source = new FlagFile(options.file, options.logger, (values) => flags.#replace(values));
    await source.reload();
    flags.#stoppers.push(source.poll(options.pollIntervalMs ?? 5000));
    if (options.watch ?? true) flags.#stoppers.push(source.watchDirectory());
    return flags;
  }

  get values(): FlagValues {
    return this.#values;
  }

  /**
   * Boolean flags answer as set; percentage flags answer for `key`, the same way every time and in
   * every instance (a hash of flag and key). Unknown flags, and percentages without a key, are off.
   */
  isEnabled(name: string, options: { key?: string } = {}): boolean {
    const value = this.#values[name];
    if (typeof value === 'boolean') return value;
    if (value === undefined || value <= 0) return false;
    if (value >= 100) return true;
    return options.key !== undefined && rolloutPosition(name, options.key) < value;
  }

  /** Calls `listener` with the new flags after each change; returns the unsubscribe function. */
  onChange(listener: (values: FlagValues) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops watching and polling. */
  close(): void {
    for (const stop of this.#stoppers.splice(0)) stop();
  }

  #replace(values: FlagValues): void {
    this.#values = values;
    this.#publish();
    for (const listener of this.#listeners) listener(values);
  }

  #publish(): void {
    if (!this.#gauge) return;
    this.#gauge.reset();
    for (const [flag, value] of Object.entries(this.#values)) {
      this.#gauge.set({ flag }, typeof value === 'boolean' ? Number(value) : value / 100);
    }
  }
}

/** Where in 0-100 a key falls for a flag; different flags spread the same keys differently. */
function rolloutPosition(flag: string, key: string): number {
  const digest = createHash('sha256').update(`${flag}\0${key}`).digest();
  return (digest.readUInt32BE(0) / 2 ** 32) * 100;
}

/** The flags file: reads it, validates it, and reports changed values. */
class FlagFile {
  /** Last content read (good or bad), so an unchanged file is neither re-parsed nor re-reported. */
  #lastContent: string | undefined;
  #lastReadError: string | undefined;
  #current: string | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    readonly logger: Logger,
    readonly onValues: (values: FlagValues) => void,
  ) {}

  /** Reloads are queued so two never interleave; a failing change listener cannot stop later reloads. */
  reload(): Promise<void> {
    this.#queue = this.#queue
      .then(() => this.#reloadNow())
      .catch((err: unknown) => this.logger.error({ err, file: this.path }, 'feature flags reload failed'));
    return this.#queue;
  }

  poll(intervalMs: number): () => void {
    const timer = setInterval(() => void this.reload(), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  watchDirectory(): () => void {
    let settle: NodeJS.Timeout | undefined;
    let watcher: FSWatcher;
    try {
      watcher = watch(dirname(this.path), { persistent: false }, () => {
        clearTimeout(settle);
        settle = setTimeout(() => void this.reload(), watchSettleMs);
      });
    } catch (err) {
      this.logger.warn({ err, file: this.path }, 'cannot watch the feature flags directory; polling only');
      return () => undefined;
    }
    watcher.on('error', (err) => {
      this.logger.warn({ err, file: this.path }, 'feature flags watch failed; polling only');
      watcher.close();
    });
    return () => {
      clearTimeout(settle);
      watcher.close();
    };
  }

  async #reloadNow(): Promise<void> {
    let content: string;
    try {
      content = await readFile(this.path, 'utf8');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== this.#lastReadError) {
        this.logger.error(
          { file: this.path, error: message },
          'cannot read feature flags; keeping the last good flags',
        );
      }
      this.#lastReadError = message;
      return;
    }
    this.#lastReadError = undefined;
    if (content === this.#lastContent) return;
    this.#lastContent = content;

    const parsed = parseFlags(content);
    if (typeof parsed === 'string') {
      this.logger.error(
        { file: this.path, error: parsed },
        'invalid feature flags; keeping the last good flags',
      );
      return;
    }
    const canonical = JSON.stringify(Object.entries(parsed).sort(([a], [b]) => a.localeCompare(b)));
    if (canonical === this.#current) return;
    this.#current = canonical;
    this.logger.info({ file: this.path, flags: parsed }, 'feature flags loaded');
    this.onValues(parsed);
  }
}

/** The flags, or a description of what is wrong with the file. */
function parseFlags(content: string): FlagValues | string {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (err) {
    return `not JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  const result = flagFileSchema.safeParse(json);
  if (result.success) return result.data;
  return result.error.issues
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
