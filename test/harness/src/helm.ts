// Runs the pinned Helm CLI, e.g. to lint, template or install the operator's chart.
import { locateBinary } from './binaries.js';
import { runCommand } from './run-command.js';
import type { CommandResult, RunCommandOptions } from './run-command.js';

/** Runs `helm <args>`; a non-zero exit is returned, not thrown. */
export async function helm(args: readonly string[], options?: RunCommandOptions): Promise<CommandResult> {
  return runCommand(locateBinary('helm'), args, options);
}
