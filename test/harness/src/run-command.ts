// Runs a command-line tool to completion and hands back its exit code and output, for tools whose
// result is the test subject (promtool, amtool, helm), so a non-zero exit is data, not an exception.
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunCommandOptions {
  cwd?: string;
  /** Added to the parent's environment. */
  env?: Record<string, string>;
  /** Written to the tool's stdin. */
  input?: string;
  /** Killed after this long (default 60 s); the result then says so in stderr. */
  timeoutMs?: number;
  user?: { uid: number; gid: number };
}

export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
      uid: options.user?.uid,
      gid: options.user?.gid,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error) => reject(new Error(`harness: could not run ${command}: ${error.message}`)));
    child.once('close', (code, signal) => {
      let errText = Buffer.concat(stderr).toString('utf8');
      if (signal) errText += `\nharness: ${command} was killed by ${signal}`;
      resolve({ code: code ?? 128, stdout: Buffer.concat(stdout).toString('utf8'), stderr: errText });
    });
    child.stdin.on('error', () => {
      // The tool may exit without reading its input; the exit code tells the story.
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like runCommand, but a non-zero exit throws with the tool's output. */
export async function runCommandOrThrow(
  command: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `harness: ${command} ${args.join(' ')} exited with code ${result.code}:\n${result.stderr}${result.stdout}`,
    );
  }
  return result;
}
