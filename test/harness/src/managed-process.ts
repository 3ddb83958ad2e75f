// A component's server process: spawned in its own process group with its output in a log file,
// awaited until a readiness probe passes, and stopped so that nothing it started survives,
// not even when the test process itself crashes or is interrupted.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export interface ManagedProcessOptions {
  /** Names the component in every message, e.g. `redis-server`. */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd?: string;
  /** Added to the parent's environment. */
  env?: Record<string, string>;
  /** Run as this user (root only), e.g. PostgreSQL, which refuses to run as root. */
  user?: { uid: number; gid: number };
  /** Resolves true once the component serves; a throw counts as not yet. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  probeIntervalMs?: number;
  /** The signal asking for a clean shutdown (PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
  /** How long a clean shutdown may take before the group is killed. */
  stopGraceMs?: number;
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ManagedProcess>();

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

function killEverythingNow(): void {
  for (const managed of running) signalGroup(managed.pid, 'SIGKILL');
  running.clear();
}

function onFatalSignal(signal: NodeJS.Signals): void {
  // Another listener owns this signal (e.g. a graceful-shutdown test): it decides whether the
  // process ends, and if it does, the 'exit' hook cleans up.
  if (process.listenerCount(signal) > 1) return;
  killEverythingNow();
  // Keep the default meaning of the signal: terminate.
  process.removeListener(signal, onFatalSignal);
  process.kill(process.pid, signal);
}

let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Children live in their own process groups, so neither a crash nor Ctrl-C would reach them.
  process.on('exit', killEverythingNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onFatalSignal);
}

/** The last `lines` lines of a log file, or a note when it cannot be read. */
export function tailOfFile(file: string, lines = 25): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    if (text === '') return '(log is empty)';
    return text.split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(log ${file} unreadable: ${(error as Error).message})`;
  }
}

/** The first of `promises` to settle, or `onTimeout` after `ms`; the timer never outlives the race. */
async function raceWithTimer<T, U>(promises: Promise<T>[], ms: number, onTimeout: U): Promise<T | U> {
  const timer = new AbortController();
  const elapsed = delay(Math.max(ms, 0), onTimeout, { signal: timer.signal }).catch(() => onTimeout);
  try {
    return await Promise.race([...promises, elapsed]);
  } finally {
    timer.abort();
  }
}

export class ManagedProcess {
  readonly name: string;
  /** The process id, which is also the id of its process group. */
  readonly pid: number;
  readonly logFile: string;
  private readonly command: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private stopping: Promise<void> | undefined;
  private readonly stopSignal: NodeJS.Signals;
  private readonly stopGraceMs: number;

  private constructor(options: ManagedProcessOptions, child: ChildProcess, pid: number) {
    this.name = options.name;
    this.pid = pid;
    this.logFile = options.logFile;
    this.command = options.command;
    this.child = child;
    this.stopSignal = options.stopSignal ?? 'SIGTERM';
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  /** Spawns the process and resolves once `ready` passes; on failure nothing is left running. */
  static async start(options: ManagedProcessOptions): Promise<ManagedProcess> {
    installExitHooks();
    const log = openSync(options.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        // A new session and process group: stop() and the exit hook signal the whole group.
        detached: true,
        stdio: ['ignore', log, log],
        uid: options.user?.uid,
        gid: options.user?.gid,
      });
    } finally {
      closeSync(log);
    }
    const pid = child.pid;
    if (pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(`harness: could not start ${options.name} (${options.command}): ${error.message}`);
    }
    const managed = new ManagedProcess(options, child, pid);
    running.add(managed);
    await managed.waitUntilReady(options);
    return managed;
  }

  /** True until the process has exited. */
  get isRunning(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last lines of the component's log, for failure messages. */
  logTail(lines = 25): string {
    return tailOfFile(this.logFile, lines);
  }

  /** An error naming the component, what went wrong, and the end of its log. */
  failure(what: string): Error {
    return new Error(
      `harness: ${this.name} ${what} (${this.command}; set HARNESS_KEEP_TEMP=1 to keep its files); ` +
        `last lines of ${this.logFile}:\n${this.logTail()}`,
    );
  }

  private async waitUntilReady(options: ManagedProcessOptions): Promise<void> {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const intervalMs = options.probeIntervalMs ?? 100;
    const deadline = Date.now() + timeoutMs;
    const exitedEarly = this.exited.then(() => false);
    for (;;) {
      if (this.exitInfo) {
        const { code, signal } = this.exitInfo;
        await this.stop();
        throw this.failure(`exited (${signal ?? `code ${code}`}) before it was ready`);
      }
      const probe = options.ready().catch(() => false);
      if (await raceWithTimer([probe, exitedEarly], deadline - Date.now(), false)) return;
      if (this.exitInfo) continue;
      if (Date.now() >= deadline) {
        await this.stop();
        throw this.failure(`was not ready within ${timeoutMs / 1000} s`);
      }
      await raceWithTimer([exitedEarly], intervalMs, false);
    }
  }

  /**
   * Asks the process to shut down (stopSignal), kills its group after the grace period, and finally
   * kills anything of the group still alive. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    if (this.isRunning) {
      signalGroup(this.pid, this.stopSignal);
      if ((await raceWithTimer([this.exited], this.stopGraceMs, 'timeout')) === 'timeout') {
        signalGroup(this.pid, 'SIGKILL');
        await this.exited;
      }
    }
    // Grandchildren that outlived the leader are still in its group.
    signalGroup(this.pid, 'SIGKILL');
    running.delete(this);
    this.child.removeAllListeners();
  }
}
