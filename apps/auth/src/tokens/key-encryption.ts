// Envelope encryption of the private signing keys at rest (docs/auth-service.md, "Signing keys at
// rest"): each key is sealed with its own random data key (AES-256-GCM), and the data key is wrapped
// by a key-encryption key (KEK) from a Kubernetes Secret. A database dump without the KEK holds no
// usable private key; rotating the KEK rewraps the small data keys, never the private keys.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';

/** A private key as stored: sealed under a data key, which is wrapped by the KEK `kekId`. */
export interface SealedKey {
  readonly kekId: string;
  /** IV ‖ tag ‖ ciphertext of the 32-byte data key under the KEK. */
  readonly wrappedKey: Buffer;
  /** IV ‖ tag ‖ ciphertext of the private JWK (JSON) under the data key. */
  readonly sealedPrivateKey: Buffer;
}

export class KeyEncryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyEncryptionError';
  }
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEK_ID = /^[A-Za-z0-9._-]{1,64}$/;

function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

function decrypt(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

// The AAD binds each ciphertext to its row: a sealed key copied onto another kid, or a data key
// moved to another KEK id, fails authentication instead of decrypting.
const dataKeyAad = (kid: string, kekId: string) =>
  Buffer.from(`chatcluster/auth/data-key/v1/${kid}/${kekId}`);
const privateKeyAad = (kid: string) => Buffer.from(`chatcluster/auth/signing-key/v1/${kid}`);

/**
 * Parses `id:base64,id:base64` (each key 32 bytes). Errors never quote the value: it is a secret.
 */
export function parseKeyEncryptionKeys(raw: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of raw.split(',').map((e) => e.trim())) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    if (colon < 0 || !KEK_ID.test(id)) {
      throw new KeyEncryptionError('expected id:base64 entries separated by commas (ids: A-Z a-z 0-9 . _ -)');
    }
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== KEY_BYTES) throw new KeyEncryptionError(`key ${id}: expected ${KEY_BYTES} bytes`);
    if (keys.has(id)) throw new KeyEncryptionError(`key ${id} is listed twice`);
    keys.set(id, key);
  }
  return keys;
}

/**
 * The configured KEKs: the active one seals and wraps; every listed one unwraps, so during a KEK
 * rotation the old and the new key both read until every row is rewrapped.
 */
export class KeyEncryptionKeys {
  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    readonly activeId: string,
  ) {
    if (!keys.has(activeId)) throw new KeyEncryptionError(`the active key ${activeId} is not listed`);
  }

  /** From KEY_ENCRYPTION_KEYS and KEY_ENCRYPTION_KEY_ID (optional when one key is listed). */
  static fromConfig(raw: string, activeId: string | undefined): KeyEncryptionKeys {
    const keys = parseKeyEncryptionKeys(raw);
    if (activeId === undefined && keys.size > 1) {
      throw new KeyEncryptionError('several keys are listed: KEY_ENCRYPTION_KEY_ID must name the active one');
    }
    return new KeyEncryptionKeys(keys, activeId ?? [...keys.keys()][0]!);
  }

  get ids(): string[] {
    return [...this.keys.keys()];
  }

  seal(kid: string, privateJwk: JWK): SealedKey {
    const dataKey = randomBytes(KEY_BYTES);
    try {
      const sealedPrivateKey = encrypt(dataKey, Buffer.from(JSON.stringify(privateJwk)), privateKeyAad(kid));
      return { ...this.wrap(kid, dataKey), sealedPrivateKey };
    } finally {
      dataKey.fill(0);
    }
  }

  open(kid: string, sealed: SealedKey): JWK {
    const dataKey = this.unwrap(kid, sealed);
    try {
      return JSON.parse(decrypt(dataKey, sealed.sealedPrivateKey, privateKeyAad(kid)).toString()) as JWK;
    } catch (err) {
      throw new KeyEncryptionError(`signing key ${kid} does not decrypt: ${(err as Error).message}`);
    } finally {
      dataKey.fill(0);
    }
  }

  /** The same private key with its data key wrapped by the active KEK. */
  rewrap(kid: string, sealed: SealedKey): SealedKey {
    const dataKey = this.unwrap(kid, sealed);
    try {
      return { ...this.wrap(kid, dataKey), sealedPrivateKey: sealed.sealedPrivateKey };
    } finally {
      dataKey.fill(0);
    }
  }

  private wrap(kid: string, dataKey: Buffer): Pick<SealedKey, 'kekId' | 'wrappedKey'> {
    const kek = this.keys.get(this.activeId)!;
    return { kekId: this.activeId, wrappedKey: encrypt(kek, dataKey, dataKeyAad(kid, this.activeId)) };
  }

  private unwrap(kid: string, sealed: SealedKey): Buffer {
    const kek = this.keys.get(sealed.kekId);
    if (!kek) {
      throw new KeyEncryptionError(
        `signing key ${kid} is sealed under key-encryption key ${sealed.kekId}, which is not configured (KEY_ENCRYPTION_KEYS)`,
      );
    }
    try {
      return decrypt(kek, sealed.wrappedKey, dataKeyAad(kid, sealed.kekId));
    } catch {
      throw new KeyEncryptionError(
        `signing key ${kid}: key-encryption key ${sealed.kekId} does not unwrap its data key (wrong key under that id?)`,
      );
    }
  }
}
