// Typed configuration from environment variables. A bad variable stops the process with one line
// naming it and what was expected (docs/architecture.md, "Environment variables").
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `env` with `schema`. Empty variables count as unset, because manifests often render an
 * unset value as "". Throws ConfigError with every problem on one line.
 */
export function loadConfig<T>(schema: z.ZodType<T>, env: Env = process.env): T {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const [variable] = issue.path;
    if (variable === undefined) return issue.message;
    const name = String(variable);
    const raw = present[name];
    return raw === undefined ? `${name}: required` : `${name}: ${issue.message}, got ${shown(name, raw)}`;
  });
  throw new ConfigError(`config: ${[...new Set(problems)].join('; ')}`);
}

/**
 * A refinement failing closed in production (the images set NODE_ENV=production): each of `names`
 * is then required, so a missing Secret stops the service at start instead of leaving it open.
 */
export function requiredInProduction<T extends { NODE_ENV: string }>(...names: (keyof T & string)[]) {
  return (config: T, ctx: z.RefinementCtx): void => {
    if (config.NODE_ENV !== 'production') return;
    for (const name of names) {
      if (config[name] === undefined)
        ctx.addIssue({ code: 'custom', message: `${name}: required when NODE_ENV=production` });
    }
  };
}

// ENCRYPTION: key-encryption keys (KEY_ENCRYPTION_KEYS) are secrets whose name says neither.
const secretName = /SECRET|TOKEN|PASSWORD|API_KEY|PRIVATE|CREDENTIAL|ENCRYPTION/i;

/** The offending value as it may appear in logs: secrets hidden, URL credentials masked, long values cut. */
function shown(name: string, raw: string): string {
  if (secretName.test(name)) return '<redacted>';
  const masked = raw.replace(/\/\/[^/@\s]*@/, '//***@');
  return JSON.stringify(masked.length > 60 ? `${masked.slice(0, 60)}…` : masked);
}

/**
 * Runs a main's config loading (sync or async); a ConfigError prints its one line to stderr and
 * exits 1 instead of dumping a stack trace. Other errors propagate.
 */
export async function exitOnConfigError<T>(load: () => T | Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

interface IssueSink {
  addIssue(issue: { code: 'custom'; message: string }): void;
}

/**
 * A variable parsed from its string; `parse` returns undefined when the string is not acceptable.
 * Without a fallback the variable is required (and `.optional()` makes it optional).
 */
function variable<T>(expected: string, parse: (raw: string) => T | undefined, fallback?: T): z.ZodType<T> {
  const fromString = (raw: string, ctx: IssueSink): T => {
    const value = parse(raw.trim());
    if (value !== undefined) return value;
    ctx.addIssue({ code: 'custom', message: `expected ${expected}` });
    return z.NEVER;
  };
  if (fallback === undefined) return z.string().transform(fromString);
  return z
    .string()
    .optional()
    .transform((raw, ctx) => (raw === undefined ? fallback : fromString(raw, ctx)));
}

function parseInteger(raw: string, min: number, max: number): number | undefined {
  if (!/^-?\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}

function rangeText(min: number, max: number): string {
  if (max === Number.MAX_SAFE_INTEGER) return min === Number.MIN_SAFE_INTEGER ? '' : ` >= ${min}`;
  return min === Number.MIN_SAFE_INTEGER ? ` <= ${max}` : ` ${min}-${max}`;
}

const booleanWords: Readonly<Record<string, boolean>> = {
  true: true,
  yes: true,
  1: true,
  false: false,
  no: false,
  0: false,
};

const durationUnits = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

function parseDurationMs(raw: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(raw);
  if (!match) return undefined;
  return Number(match[1]) * durationUnits[(match[2] ?? 'ms') as keyof typeof durationUnits];
}

const sizeUnits = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;

function parseByteSize(raw: string): number | undefined {
  const match = /^(\d+)(b|kb|mb|gb)?$/i.exec(raw);
  if (!match) return undefined;
  return Number(match[1]) * sizeUnits[(match[2] ?? 'b').toLowerCase() as keyof typeof sizeUnits];
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Schemas for common variable shapes; pass a default to make the variable optional. */
export const env = {
  port: (fallback?: number) =>
    variable('an integer 0-65535', (raw) => parseInteger(raw, 0, 65_535), fallback),

  int: (fallback?: number, range: { min?: number; max?: number } = {}) => {
    const min = range.min ?? Number.MIN_SAFE_INTEGER;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    return variable(`an integer${rangeText(min, max)}`, (raw) => parseInteger(raw, min, max), fallback);
  },

  /** Non-empty string. */
  string: (fallback?: string) => variable('a non-empty string', (raw) => raw || undefined, fallback),

  /**
   * Absolute URL with a host, kept as the original string; `protocols` like ['postgres:', 'postgresql:'].
   * The host check catches `localhost:8081`, which parses as a URL of scheme `localhost:`.
   */
  url: (options: { protocols?: readonly string[]; default?: string } = {}) => {
    const { protocols } = options;
    const expected = protocols ? `a ${protocols.map((p) => `${p}//`).join(' or ')} URL` : 'an absolute URL';
    const accept = (raw: string) => {
      const url = URL.parse(raw);
      return url && url.host !== '' && (!protocols || protocols.includes(url.protocol)) ? raw : undefined;
    };
    return variable(expected, accept, options.default);
  },

  bool: (fallback?: boolean) => variable('true or false', (raw) => booleanWords[raw.toLowerCase()], fallback),

  /** Milliseconds: an integer (ms) or a number with a unit, e.g. 500ms, 30s, 5m, 1h. */
  durationMs: (fallback?: number) =>
    variable('a duration in ms (e.g. 30000, 30s, 5m)', parseDurationMs, fallback),

  /** Bytes: an integer or a number with a unit (b, kb, mb, gb; 1024-based, like express's limit). */
  byteSize: (fallback?: string) => {
    const fallbackBytes = fallback === undefined ? undefined : parseByteSize(fallback);
    if (fallback !== undefined && fallbackBytes === undefined) throw new TypeError(`not a size: ${fallback}`);
    return variable('a size such as 512, 100kb or 1mb', parseByteSize, fallbackBytes);
  },

  logLevel: (fallback: LogLevel = 'info') =>
    variable<LogLevel>(
      `one of ${logLevels.join(', ')}`,
      (raw) => logLevels.find((level) => level === raw.toLowerCase()),
      fallback,
    ),
};

/**
 * The variables every service reads (docs/architecture.md). A service extends it and overrides
 * PORT with its own default: `kitConfigSchema.extend({ PORT: env.port(8081), POSTGRES_URL: env.url() })`.
 */
export const kitConfigSchema = z.object({
  /** Defaults to the name the service passes to createService. */
  SERVICE_NAME: env.string().optional(),
  PORT: env.port(),
  LOG_LEVEL: env.logLevel('info'),
  SHUTDOWN_TIMEOUT_MS: env.durationMs(30_000),
  BODY_LIMIT: env.byteSize('100kb'),
  FEATURE_FLAGS_FILE: env.string().optional(),
});

export type KitConfig = z.output<typeof kitConfigSchema>;
