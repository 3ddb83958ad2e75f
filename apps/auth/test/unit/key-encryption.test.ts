import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { KeyEncryptionError, KeyEncryptionKeys } from '../../src/tokens/key-encryption.js';

const jwk = { kty: 'OKP', crv: 'Ed25519', x: 'public-part', d: 'private-part-d', kid: 'kid-1' };

function keks(entries: Record<string, Buffer>, active: string): KeyEncryptionKeys {
  return new KeyEncryptionKeys(new Map(Object.entries(entries)), active);
}

describe('key encryption (envelope, AES-256-GCM)', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('seals a private key so the stored bytes hold no part of it, and opens it again', () => {
    const store = keks({ k1 }, 'k1');
    const sealed = store.seal('kid-1', jwk);
    expect(sealed.kekId).to.equal('k1');
    for (const part of [sealed.wrappedKey, sealed.sealedPrivateKey]) {
      expect(part.toString('latin1')).to.not.contain('private-part-d');
    }
    expect(store.open('kid-1', sealed)).to.deep.equal(jwk);
    // a fresh data key and IV each time
    expect(store.seal('kid-1', jwk).sealedPrivateKey.equals(sealed.sealedPrivateKey)).to.equal(false);
  });

  it('binds the ciphertext to its kid: a sealed key copied to another row does not open', () => {
    const store = keks({ k1 }, 'k1');
    const sealed = store.seal('kid-1', jwk);
    expect(() => store.open('kid-2', sealed)).to.throw(KeyEncryptionError, /kid-2/);
  });

  it('cannot open without the key-encryption key, or with another key under the same id', () => {
    const sealed = keks({ k1 }, 'k1').seal('kid-1', jwk);
    expect(() => keks({ k2 }, 'k2').open('kid-1', sealed)).to.throw(
      KeyEncryptionError,
      /sealed under key-encryption key k1, which is not configured/,
    );
    expect(() => keks({ k1: k2 }, 'k1').open('kid-1', sealed)).to.throw(
      KeyEncryptionError,
      /k1 does not unwrap its data key/,
    );
  });

  it('rewraps under the active key, leaving the sealed private key as it was; both keys read meanwhile', () => {
    const sealed = keks({ k1 }, 'k1').seal('kid-1', jwk);
    const rotating = keks({ k1, k2 }, 'k2');
    expect(rotating.open('kid-1', sealed)).to.deep.equal(jwk);
    const rewrapped = rotating.rewrap('kid-1', sealed);
    expect(rewrapped.kekId).to.equal('k2');
    expect(rewrapped.sealedPrivateKey.equals(sealed.sealedPrivateKey)).to.equal(true);
    expect(keks({ k2 }, 'k2').open('kid-1', rewrapped)).to.deep.equal(jwk);
    expect(() => keks({ k1 }, 'k1').open('kid-1', rewrapped)).to.throw(KeyEncryptionError, /k2/);
  });
});
