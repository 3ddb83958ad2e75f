// One replica: a local process standing in for a pod's container, supervised as the kubelet does with
// restartPolicy Always. It starts the process (after resolving its environment, which may fail until a
// Secret or ConfigMap appears), runs the startup, liveness and readiness probes, restarts the process
// when it exits or a liveness or startup probe fails (with a doubling back-off), and stops it with the
// preStop sleep, SIGTERM and SIGKILL once terminationGracePeriodSeconds have passed.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { LocalCommand } from './commands.js';
import { ProbeWorker, type ProbeKind, type ProbeResult } from './probes.js';
import type { Container } from './types.js';

export interface LaunchSpec {
  command: LocalCommand;
  env: Record<string, string>;
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** A process that ran this long starts the back-off over. */
  resetAfterMs: number;
}

/** Shorter than the kubelet's 10 s to 5 min, so a fixed bug is picked up quickly while developing. */
export const DEV_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

export interface ReplicaOptions {
  podName: string;
  hash: string;
  container: Container;
  terminationGracePeriodSeconds: number;
  logFile: string;
  /** Template port (name or number) → local port. */
  localPort: (port: number | string) => number | undefined;
  /** Resolves env and command for each (re)start; a throw is retried with back-off. */
  prepare: () => Promise<LaunchSpec> | LaunchSpec;
  log: (line: string) => void;
  /** Readiness, liveness or lifecycle changed: recompute status and endpoints. */
  onChange: () => void;
  backoff?: BackoffOptions;
}

export type ReplicaPhase = 'Pending' | 'Running' | 'BackOff' | 'Terminating' | 'Terminated';

// Every process group the runner started, killed if the runner process exits without stopping them.
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
});

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

export class Replica {
  readonly name: string;
  readonly hash: string;
  readonly createdAt = Date.now();
  phase: ReplicaPhase = 'Pending';
  restarts = 0;
  /** Since when the replica has been ready without interruption (undefined while not ready). */
  readySince: number | undefined;
  pid: number | undefined;
  lastProblem: string | undefined;
  /** Why the process was last restarted (exit, liveness or startup probe failure). */
  lastRestartReason: string | undefined;

  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private startedAt = 0;
  private probes: ProbeWorker[] = [];
  private started = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private killingForRestart = false;
  private readonly backoff: BackoffOptions;

  constructor(private readonly options: ReplicaOptions) {
    this.name = options.podName;
    this.hash = options.hash;
    this.backoff = options.backoff ?? DEV_BACKOFF;
  }

  get ready(): boolean {
    return this.readySince !== undefined;
  }

  get terminating(): boolean {
    return this.stopping !== undefined;
  }

  /** Ready for at least `minReadySeconds`. */
  available(minReadySeconds: number, now = Date.now()): boolean {
    return this.readySince !== undefined && now - this.readySince >= minReadySeconds * 1000;
  }

  start(): void {
    void this.launch();
  }

  /** Terminates the replica as the kubelet does on pod deletion. Safe to call more than once. */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.options.log(`${this.name}: stopping (${reason})`);
      clearTimeout(this.retryTimer);
      this.setReady(false);
      this.phase = 'Terminating';
      this.options.onChange();
      await this.killProcess();
      this.phase = 'Terminated';
      this.options.onChange();
    })();
    return this.stopping;
  }

  private async launch(): Promise<void> {
    if (this.terminating) return;
    let spec: LaunchSpec;
    try {
      spec = await this.options.prepare();
    } catch (err) {
      this.scheduleRetry(`cannot start: ${(err as Error).message}`);
      return;
    }
    if (this.terminating) return;
    const { command, env } = spec;
    const log = openSync(this.options.logFile, 'a');
    let child: ChildProcess;
    try {
      writeSync(
        log,
        `--- ${new Date().toISOString()} ${this.name}: ${command.command} ${command.args.join(' ')}\n`,
      );
      child = spawn(command.command, command.args, {
        cwd: command.cwd,
        env,
        // Its own process group: stopping signals everything the process started.
        detached: true,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const pid = child.pid;
    if (pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      this.scheduleRetry(`cannot start ${command.command}: ${error.message}`);
      return;
    }
    this.child = child;
    this.pid = pid;
    this.startedAt = Date.now();
    this.phase = 'Running';
    this.started = false;
    liveGroups.add(pid);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        liveGroups.delete(pid);
        signalGroup(pid, 'SIGKILL');
        this.onExit(code, signal);
        resolve();
      }),
    );
    this.options.log(`${this.name}: started pid ${pid} (restarts ${this.restarts})`);
    this.startProbes();
    this.options.onChange();
  }

  private startProbes(): void {
    const { container, localPort } = this.options;
    const worker = (kind: ProbeKind, probe: NonNullable<Container['livenessProbe']>) =>
      new ProbeWorker(kind, probe, localPort, (ok, result) => this.onProbe(kind, ok, result));
    if (container.startupProbe) {
      this.probes = [worker('startup', container.startupProbe).start()];
    } else {
      this.afterStartup();
    }
  }

  /** Liveness and readiness begin once the startup probe passed (or at once without one). */
  private afterStartup(): void {
    const { container, localPort } = this.options;
    this.started = true;
    const workers: ProbeWorker[] = [];
    const add = (kind: ProbeKind, probe: Container['livenessProbe']) => {
      if (probe)
        workers.push(new ProbeWorker(kind, probe, localPort, (ok, r) => this.onProbe(kind, ok, r)).start());
    };
    add('liveness', container.livenessProbe);
    add('readiness', container.readinessProbe);
    this.probes = workers;
    if (!container.readinessProbe) this.setReady(true);
  }

  private onProbe(kind: ProbeKind, ok: boolean, result: ProbeResult): void {
    if (this.terminating || this.killingForRestart) return;
    if (kind === 'startup') {
      if (ok) return this.afterStartup();
      this.lastProblem = `startup probe failed: ${result.detail}`;
      this.options.log(`${this.name}: ${this.lastProblem}; restarting`);
      void this.restart();
    } else if (kind === 'liveness') {
      if (ok) return;
      this.lastProblem = `liveness probe failed: ${result.detail}`;
      this.options.log(`${this.name}: ${this.lastProblem}; restarting`);
      void this.restart();
    } else {
      if (!ok) this.lastProblem = `readiness probe failed: ${result.detail}`;
      this.options.log(`${this.name}: ${ok ? 'ready' : `not ready (${result.detail})`}`);
      this.setReady(ok && this.started);
    }
  }

  /** The kubelet's container kill: preStop, SIGTERM, SIGKILL after the grace period; then back-off and start. */
  private async restart(): Promise<void> {
    this.killingForRestart = true;
    this.setReady(false);
    this.options.onChange();
    await this.killProcess();
    this.killingForRestart = false;
    // onExit scheduled the restart.
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.stopProbes();
    this.child = undefined;
    this.pid = undefined;
    this.setReady(false);
    if (this.terminating) return;
    const how = signal ?? `code ${code}`;
    if (!this.killingForRestart) this.lastProblem = `exited (${how})`;
    this.options.log(`${this.name}: process exited (${how})`);
    if (Date.now() - this.startedAt >= this.backoff.resetAfterMs) this.failures = 0;
    this.restarts++;
    this.lastRestartReason = this.lastProblem;
    this.scheduleRetry(this.lastProblem ?? `exited (${how})`);
  }

  private scheduleRetry(problem: string): void {
    if (this.terminating) return;
    this.failures++;
    this.lastProblem = problem;
    this.phase = 'BackOff';
    const wait = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (this.failures - 1));
    this.options.log(`${this.name}: ${problem}; next start in ${wait / 1000} s`);
    this.options.onChange();
    this.retryTimer = setTimeout(() => void this.launch(), wait);
  }

  private async killProcess(): Promise<void> {
    this.stopProbes();
    const child = this.child;
    const pid = this.pid;
    if (!child || pid === undefined) return;
    const graceMs = this.options.terminationGracePeriodSeconds * 1000;
    const deadline = Date.now() + graceMs;
    const exited = this.exited;
    const preStop = this.options.container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    if (preStop > 0) {
      await Promise.race([exited, delay(Math.min(preStop * 1000, graceMs))]);
    }
    signalGroup(pid, 'SIGTERM');
    const timer = new AbortController();
    const timedOut = await Promise.race([
      exited.then(() => false),
      delay(Math.max(0, deadline - Date.now()), true, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (timedOut) {
      this.options.log(`${this.name}: still running after ${graceMs / 1000} s grace period; SIGKILL`);
      signalGroup(pid, 'SIGKILL');
      await exited;
    }
  }

  private stopProbes(): void {
    for (const probe of this.probes) probe.stop();
    this.probes = [];
  }

  private setReady(ready: boolean): void {
    const next = ready && !this.terminating && !this.killingForRestart && this.child !== undefined;
    if (next === this.ready) return;
    this.readySince = next ? Date.now() : undefined;
    this.options.onChange();
  }
}
