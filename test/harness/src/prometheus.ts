// A private Prometheus on a free loopback port with the caller's configuration and rule files, and
// promtool for checking and unit-testing rules.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { locateBinary } from './binaries.js';
import { httpGet } from './http-get.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { runCommand } from './run-command.js';
import type { CommandResult, RunCommandOptions } from './run-command.js';
import { createTempDir, removeTempDir } from './tempdir.js';

export interface PrometheusOptions {
  /** prometheus.yml contents; `rule_files` is extended with `ruleFiles`. */
  configYaml: string;
  /** Absolute paths of rule files to load. */
  ruleFiles?: readonly string[];
  /** Listen here instead of a fresh free port, e.g. when the config scrapes Prometheus itself. */
  port?: number;
  /** Extra command-line flags. */
  extraArgs?: readonly string[];
  readyTimeoutMs?: number;
  /** Debian's server (default), or the one built from its Go module (`prometheus-server`), whose
   * service discoveries include kubernetes_sd. */
  server?: 'prometheus' | 'prometheus-server';
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The configuration file as written, rule files included. */
  configFile: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs promtool (e.g. `['check', 'rules', file]`, `['test', 'rules', file]`). */
export async function promtool(args: readonly string[], options?: RunCommandOptions): Promise<CommandResult> {
  return runCommand(locateBinary('promtool'), args, options);
}

function withRuleFiles(configYaml: string, ruleFiles: readonly string[]): string {
  if (ruleFiles.length === 0) return configYaml;
  const config = (loadYaml<Record<string, unknown> | null>(configYaml) ?? {}) as { rule_files?: string[] };
  config.rule_files = [...(config.rule_files ?? []), ...ruleFiles];
  return dumpYaml(config);
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const prometheus = locateBinary(options.server ?? 'prometheus');
  const dir = createTempDir('prometheus');
  try {
    const port = options.port ?? (await freePort());
    const url = `http://127.0.0.1:${port}`;
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, withRuleFiles(options.configYaml, options.ruleFiles ?? []));
    const server = await ManagedProcess.start({
      name: 'prometheus',
      command: prometheus,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        ...(options.extraArgs ?? []),
      ],
      cwd: dir,
      logFile: join(dir, 'prometheus.log'),
      ready: async () => (await httpGet(`${url}/-/ready`)).status === 200,
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
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
