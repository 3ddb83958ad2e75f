import { expect } from 'chai';
import { PasswordHasher } from '../../src/passwords.js';

describe('password hashing', () => {
  // Cheap parameters keep the suite fast; production uses the OWASP defaults.
  const hasher = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

  it('hashes with argon2id, salted, and verifies', async () => {
    const a = await hasher.hash('correct horse battery staple');
    const b = await hasher.hash('correct horse battery staple');
    expect(a).to.match(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(a).to.not.equal(b);
    expect(await hasher.verify(a, 'correct horse battery staple')).to.equal(true);
    expect(await hasher.verify(a, 'wrong')).to.equal(false);
  });

  it('never authenticates against a malformed hash, and spends time on unknown users', async () => {
    expect(await hasher.verify('not-a-hash', 'x')).to.equal(false);
    expect(await hasher.verifyDummy('x')).to.equal(false);
  });

  it('tells when a hash needs upgrading to stronger parameters', async () => {
    const weak = await hasher.hash('pw');
    expect(new PasswordHasher().needsRehash(weak)).to.equal(true);
    expect(hasher.needsRehash(weak)).to.equal(false);
  });
});
