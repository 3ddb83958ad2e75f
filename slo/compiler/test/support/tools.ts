// Runs promtool and amtool synchronously. The binaries are found by the harness, so a missing one
// fails naming it and `make setup`, never a skip: a suite that quietly skips its checks proves nothing.
import { locateBinary } from '@chatcluster/harness';
import { spawnSync } from 'node:child_process';

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertion messages. */
  output: string;
}

export function runTool(name: 'promtool' | 'amtool', args: string[], cwd?: string): ToolResult {
  const result = spawnSync(locateBinary(name), args, { cwd, encoding: 'utf8', timeout: 600_000 });
  if (result.error) throw result.error;
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    output: `${result.stdout}${result.stderr}`,
  };
}

export const promtool = (args: string[], cwd?: string): ToolResult => runTool('promtool', args, cwd);
export const amtool = (args: string[], cwd?: string): ToolResult => runTool('amtool', args, cwd);
