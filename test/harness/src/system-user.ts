// Who a component runs as. PostgreSQL refuses to run as root, and tests run as root in CI, so there
// it runs as the `postgres` system user that the Debian package creates.
import { readFileSync } from 'node:fs';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** The user and primary group of `name` from /etc/passwd, or an error saying how to get it. */
export function systemUser(name: string): SystemUser {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 4) {
      return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
    }
  }
  throw new Error(
    `harness: system user ${name} does not exist; run make setup (its Debian package creates it)`,
  );
}

/** True when the tests run as root. */
export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}
