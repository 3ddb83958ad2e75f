// The platform as `make dev` starts it (tools/dev startPlatform), in a private directory, with the
// local URLs a user of it has: the Services' proxies for auth, message and notification.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, removeTempDir, tailOfFile } from '@chatcluster/harness';
import {
  startPlatform,
  type DevRunner,
  type PlatformOptions,
  type ReplicaInfo,
  type RunningPlatform,
} from '@chatcluster/dev';

const NAMESPACE = 'default';
const CLUSTER = 'chat';

export interface TestPlatform {
  platform: RunningPlatform;
  /** Logs (`progress.log`, `runner.log`, `pods/<replica>.log`, `notifications-sent.log`). */
  dir: string;
  runner: DevRunner;
  authUrl: string;
  /** The message Service: the API, the WebSocket at /ws and the chat page at /. */
  messageUrl: string;
  notificationUrl: string;
  /** The local replicas of a component (`auth`, `message`, `notification`). */
  replicas(component: string): ReplicaInfo[];
  /** `http://127.0.0.1:<port>` of one replica, bypassing the Service. */
  replicaUrl(replica: ReplicaInfo): string;
  /** The last lines of the runner log and of each replica's log, for failure messages. */
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

export async function startTestPlatform(
  label: string,
  options: Omit<PlatformOptions, 'dir'> = {},
): Promise<TestPlatform> {
  const dir = createTempDir(label);
  const progressLog = join(dir, 'progress.log');
  let platform: RunningPlatform;
  try {
    platform = await startPlatform(
      (line) => appendFileSync(progressLog, `${new Date().toISOString()} ${line}\n`),
      { ...options, dir },
    );
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  const runner = platform.parts.workloads.runner;
  const serviceUrl = (component: string): string => {
    const url = runner.serviceUrl(NAMESPACE, `${CLUSTER}-${component}`);
    if (!url) throw new Error(`no local proxy for the Service ${CLUSTER}-${component}`);
    return url;
  };
  const replicas = (component: string) =>
    runner.replicas({ namespace: NAMESPACE, workload: `${CLUSTER}-${component}` });
  return {
    platform,
    dir,
    runner,
    authUrl: serviceUrl('auth'),
    messageUrl: serviceUrl('message'),
    notificationUrl: serviceUrl('notification'),
    replicas,
    replicaUrl(replica) {
      const port = Object.values(replica.ports)[0];
      if (port === undefined) throw new Error(`${replica.name} has no port`);
      return `http://127.0.0.1:${port}`;
    },
    logTails(lines = 15) {
      const tails = [`runner.log:\n${tailOfFile(join(dir, 'runner.log'), lines)}`];
      for (const replica of runner.replicas({ namespace: NAMESPACE })) {
        tails.push(`${replica.name}.log:\n${tailOfFile(replica.logFile, lines)}`);
      }
      return tails.join('\n');
    },
    async stop() {
      await platform.stop();
      await removeTempDir(dir);
    },
  };
}
