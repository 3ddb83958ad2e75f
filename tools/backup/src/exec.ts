// Runs the database client tools (pg_dump, pg_restore, mongodump, mongorestore) and fails with their
// own error output, with any password in a connection string masked.
import { spawn } from 'node:child_process';

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages and logs. */
export function redact(text: string): string {
  return text.replace(/(\w+:\/\/[^:/@\s]+):[^@\s]+@/g, '$1:***@');
}

export function run(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (err) => reject(new Error(`${command}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            redact(`${command} exited with code ${code}: ${stderr.trim().split('\n').slice(-10).join('\n')}`),
          ),
        );
    });
  });
}

/** True when `command` is on PATH. */
export async function available(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}
