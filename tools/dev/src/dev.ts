// `make dev`: starts a local single-node Kubernetes cluster with the platform on it, prints where each
// part is, and stops everything on Ctrl-C (the machine is put back as it was).
import { startPlatform } from './platform.js';

function progress(line: string): void {
  process.stdout.write(`[dev ${new Date().toTimeString().slice(0, 8)}] ${line}\n`);
}

const platform = await startPlatform(progress).catch((error: unknown) => {
  process.stderr.write(`[dev] could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

process.stdout.write('\nChatCluster is running locally:\n');
for (const [name, where] of platform.endpoints) process.stdout.write(`  ${name.padEnd(22)} ${where}\n`);
process.stdout.write('\nCtrl-C stops everything.\n');

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  progress(`${signal}: stopping`);
  await platform.stop();
  progress('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
