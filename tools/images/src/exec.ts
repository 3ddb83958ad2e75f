// Runs the command-line tools the image build drives (tar, ctr, assemble.mjs); a failure throws
// with the tool's own output, which is what explains it.
import { spawn } from 'node:child_process';

export interface ExecOptions {
  cwd?: string;
}

/** Runs `command` to completion and resolves its stdout; a non-zero exit rejects with its output. */
export function exec(command: string, args: readonly string[], options: ExecOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error) => reject(new Error(`images: could not run ${command}: ${error.message}`)));
    child.once('close', (code, signal) => {
      const out = Buffer.concat(stdout).toString('utf8');
      if (code === 0) return resolve(out);
      const err = Buffer.concat(stderr).toString('utf8');
      reject(
        new Error(
          `images: ${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`}):\n${err}${out}`.trimEnd(),
        ),
      );
    });
  });
}
