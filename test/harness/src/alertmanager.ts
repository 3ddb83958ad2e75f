// A private, non-clustered Alertmanager on a free loopback port, and amtool for config checks.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { locateBinary } from './binaries.js';
import { httpGet } from './http-get.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { runCommand } from './run-command.js';
import type { CommandResult, RunCommandOptions } from './run-command.js';
import { createTempDir, removeTempDir } from './tempdir.js';

export interface AlertmanagerOptions {
  /** alertmanager.yml contents. */
  configYaml: string;
  /** The address to listen on (default 127.0.0.1); `make dev` uses the node address so pods reach it. */
  host?: string;
  extraArgs?: readonly string[];
  readyTimeoutMs?: number;
}

export interface AlertmanagerServer {
  /** `http://<host>:<port>`; the API is under /api/v2. */
  url: string;
  port: number;
  configFile: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs amtool (e.g. `['check-config', file]`). */
export async function amtool(args: readonly string[], options?: RunCommandOptions): Promise<CommandResult> {
  return runCommand(locateBinary('amtool'), args, options);
}

export async function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerServer> {
  const alertmanager = locateBinary('prometheus-alertmanager');
  const dir = createTempDir('alertmanager');
  try {
    const port = await freePort();
    const host = options.host ?? '127.0.0.1';
    const url = `http://${host}:${port}`;
    const configFile = join(dir, 'alertmanager.yml');
    await writeFile(configFile, options.configYaml);
    const server = await ManagedProcess.start({
      name: 'prometheus-alertmanager',
      command: alertmanager,
      args: [
        `--config.file=${configFile}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=${host}:${port}`,
        // An empty address disables clustering (and its gossip port on 0.0.0.0:9094).
        '--cluster.listen-address=',
        '--log.level=warn',
        ...(options.extraArgs ?? []),
      ],
      cwd: dir,
      logFile: join(dir, 'alertmanager.log'),
      ready: async () => (await httpGet(`${url}/-/ready`)).status === 200,
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    });
    return {
      url,
      port,
      configFile,
      pid: server.pid,
      async stop() {
        await server.stop();
        await removeTempDir(dir);
      },
    };
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}
