// Password hashing: argon2id with OWASP parameters, and constant-ish time for unknown users.
import { hash, verify } from '@node-rs/argon2';

/**
 * Argon2id password hashing (@node-rs/argon2, native code run off the event loop). The defaults
 * follow OWASP's minimum for argon2id: 19 MiB memory, 2 passes, 1 lane. The parameters live in
 * each hash, so raising them later still verifies old hashes (and `needsRehash` tells when to
 * upgrade one at the next login).
 */
export interface PasswordParams {
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export const DEFAULT_PASSWORD_PARAMS: PasswordParams = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export class PasswordHasher {
  private dummy: Promise<string> | null = null;

  constructor(private readonly params: PasswordParams = DEFAULT_PASSWORD_PARAMS) {}

  hash(password: string): Promise<string> {
    // @node-rs/argon2 hashes with argon2id unless told otherwise (its Algorithm is a const enum,
    // which isolatedModules cannot read; a unit test pins the `$argon2id$` prefix).
    return hash(password, { ...this.params });
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false; // a malformed stored hash never authenticates
    }
  }

  /**
   * Spends the same time as a real verification, for a login naming an unknown user, so response
   * times do not reveal which usernames exist.
   */
  async verifyDummy(password: string): Promise<false> {
    this.dummy ??= this.hash('chatcluster-timing-equaliser');
    await this.verify(await this.dummy, password);
    return false;
  }

  /** True when the hash was made with weaker parameters than the current ones. */
  needsRehash(passwordHash: string): boolean {
    const m = /^\$argon2id\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(passwordHash);
    if (!m) return true;
    return (
      Number(m[1]) < this.params.memoryCost ||
      Number(m[2]) < this.params.timeCost ||
      Number(m[3]) < this.params.parallelism
    );
  }
}
