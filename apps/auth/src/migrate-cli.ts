#!/usr/bin/env node
/**
 * Schema migrations and key rotation by hand:
 *   POSTGRES_URL=… node dist/src/migrate-cli.js up | down [steps] | status | rotate-key [--activate-in SECONDS]
 *   POSTGRES_URL=… KEY_ENCRYPTION_KEYS=… KEY_ENCRYPTION_KEY_ID=… node dist/src/migrate-cli.js rewrap-keys
 * rewrap-keys seals plaintext private keys and rewraps every key under the active key-encryption
 * key (docs/auth-service.md, "Rotating the key-encryption key").
 */
import { ConfigError, exitOnConfigError, loadConfig } from '@chatcluster/kit';
import { authConfigSchema, keyEncryptionKeys } from './config.js';
import { Database } from './db/database.js';
import { Migrator } from './db/migrator.js';
import { lockSigningKeys } from './repositories/signing-keys.js';
import { KeyEncryptionError } from './tokens/key-encryption.js';
import { KeyStore, sealStoredKeys } from './tokens/key-store.js';

/** The service's own definitions of the variables the CLI reads, so both parse them alike. */
const cliConfigSchema = authConfigSchema.pick({
  POSTGRES_URL: true,
  ACCESS_TOKEN_TTL_SECONDS: true,
  SIGNING_KEY_PREPUBLISH_SECONDS: true,
  JWT_CLOCK_SKEW_SECONDS: true,
  SIGNING_KEY_RELOAD_MS: true,
  KEY_ENCRYPTION_KEYS: true,
  KEY_ENCRYPTION_KEY_ID: true,
});

const usage =
  'usage: migrate-cli up | down [steps] | status | rotate-key [--activate-in SECONDS] | rewrap-keys';

/** The key-encryption keys, required by rewrap-keys; for rotate-key, when set, the new key is sealed. */
function keyEncryption(config: {
  KEY_ENCRYPTION_KEYS?: string | undefined;
  KEY_ENCRYPTION_KEY_ID?: string | undefined;
}) {
  try {
    return keyEncryptionKeys(config);
  } catch (err) {
    if (err instanceof KeyEncryptionError)
      throw new ConfigError(`config: KEY_ENCRYPTION_KEY_ID: ${err.message}`);
    throw err;
  }
}

const log = {
  info: (obj: object, msg: string) => console.log(JSON.stringify({ level: 'info', msg, ...obj })),
  warn: (obj: object, msg: string) => console.error(JSON.stringify({ level: 'warn', msg, ...obj })),
};

async function main(argv: string[]): Promise<number> {
  const config = await exitOnConfigError(() => loadConfig(cliConfigSchema));
  const kek = await exitOnConfigError(() => keyEncryption(config));
  const url = config.POSTGRES_URL;
  const [command, arg, value] = argv;
  const migrator = new Migrator({ url, logger: log });
  switch (command) {
    case 'up': {
      const done = await migrator.up();
      log.info({ applied: done }, done.length ? 'migrated up' : 'nothing to apply');
      return 0;
    }
    case 'down': {
      const steps = arg === undefined ? 1 : Number(arg);
      if (!Number.isInteger(steps) || steps < 1) {
        console.error(`steps: expected a positive integer, got ${arg}`);
        return 2;
      }
      log.info({ reverted: await migrator.down(steps) }, 'migrated down');
      return 0;
    }
    case 'status':
      for (const m of await migrator.status()) {
        console.log(`${String(m.version).padStart(4, '0')} ${m.applied ? 'applied' : 'pending'} ${m.name}`);
      }
      return 0;
    case 'rotate-key': {
      let activateIn: number | undefined;
      if (arg !== undefined) {
        activateIn = Number(value);
        if (arg !== '--activate-in' || !Number.isInteger(activateIn) || activateIn < 0) {
          console.error(usage);
          return 2;
        }
      }
      const db = new Database({ url, poolMax: 2 });
      try {
        const keys = new KeyStore(db, {
          accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
          prepublishSeconds: config.SIGNING_KEY_PREPUBLISH_SECONDS,
          clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
          reloadIntervalMs: config.SIGNING_KEY_RELOAD_MS,
          rotateAfterSeconds: 0,
          ...(kek ? { keyEncryption: kek } : {}),
        });
        const kid = await keys.rotate(activateIn);
        log.info(
          { kid, activateInSeconds: activateIn ?? config.SIGNING_KEY_PREPUBLISH_SECONDS },
          'signing key rotated',
        );
      } finally {
        await db.close();
      }
      return 0;
    }
    case 'rewrap-keys': {
      if (!kek) {
        console.error('rewrap-keys: KEY_ENCRYPTION_KEYS is required');
        return 2;
      }
      const db = new Database({ url, poolMax: 1 });
      try {
        // One transaction under the signing-keys lock: replicas rotating meanwhile wait for it.
        const done = await db.write('signing_keys.rewrap', async (sql) => {
          await lockSigningKeys(sql);
          return sealStoredKeys(sql, kek, 'all');
        });
        log.info({ kekId: kek.activeId, ...done }, 'signing keys sealed under the active key-encryption key');
      } finally {
        await db.close();
      }
      return 0;
    }
    default:
      console.error(usage);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`migrate-cli: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
