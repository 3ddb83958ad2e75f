// A single-member etcd on free loopback ports, the storage behind the test kube-apiserver.
import { join } from 'node:path';
import { locateBinary } from './binaries.js';
import { httpGet } from './http-get.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { createTempDir, removeTempDir } from './tempdir.js';

export interface EtcdOptions {
  readyTimeoutMs?: number;
}

export interface EtcdServer {
  /** The client URL, `http://127.0.0.1:<port>`. */
  url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

async function isHealthy(url: string): Promise<boolean> {
  const { status, body } = await httpGet(`${url}/health`);
  return status === 200 && (JSON.parse(body) as { health?: string }).health === 'true';
}

export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  const etcd = locateBinary('etcd');
  const dir = createTempDir('etcd');
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  let server: ManagedProcess;
  try {
    server = await ManagedProcess.start({
      name: 'etcd',
      command: etcd,
      args: [
        '--name=harness',
        `--data-dir=${join(dir, 'data')}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=harness=${peerUrl}`,
        // Throwaway data: fsync only slows every API write.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      cwd: dir,
      logFile: join(dir, 'etcd.log'),
      ready: () => isHealthy(url),
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    });
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  return {
    url,
    pid: server.pid,
    async stop() {
      await server.stop();
      await removeTempDir(dir);
    },
  };
}
