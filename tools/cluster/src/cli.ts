// `node tools/cluster/dist/src/cli.js up [LOG_DIR]`: the local cluster alone, until Ctrl-C.
// `… clean`: puts the machine back after a cluster that was killed (make dev does this itself).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from './cluster.js';
import { ClusterLock, requireRoot, restoreHost } from './host.js';
import { clusterDirs } from './layout.js';

const [command, logDir = join(tmpdir(), 'chatcluster-cluster')] = process.argv.slice(2);
const say = (line: string) =>
  process.stdout.write(`[cluster ${new Date().toTimeString().slice(0, 8)}] ${line}\n`);

if (command === 'up') {
  const cluster = await startCluster({ logDir, progress: say });
  say(`export KUBECONFIG=${cluster.kubeconfigPath}   (logs in ${logDir}; Ctrl-C stops the cluster)`);
  const stop = async () => {
    say('stopping');
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
} else if (command === 'clean') {
  requireRoot();
  const dirs = clusterDirs();
  const { lock, stale } = ClusterLock.acquire(dirs);
  await restoreHost(dirs, stale);
  lock.release();
  say('the machine is back as it was before the cluster');
} else {
  process.stderr.write('usage: cli.js up [LOG_DIR] | clean\n');
  process.exit(2);
}
