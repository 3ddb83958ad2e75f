// Probing a replica as the kubelet does: an HTTP GET (2xx or 3xx passes) or a TCP connect on the
// probe's port (named ports resolve to the replica's local port), with the template's
// initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold and failureThreshold, and the
// kubelet's defaults (period 10 s, timeout 1 s, thresholds 1 and 3). Exec probes are not run.
import http from 'node:http';
import https from 'node:https';
import { connect } from 'node:net';
import type { Probe } from './types.js';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

function httpProbe(
  probe: NonNullable<Probe['httpGet']>,
  port: number,
  timeoutMs: number,
): Promise<ProbeResult> {
  const https_ = probe.scheme === 'HTTPS';
  const path = probe.path ?? '/';
  const headers = Object.fromEntries((probe.httpHeaders ?? []).map((h) => [h.name, h.value]));
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port, path, headers, timeout: timeoutMs, agent: false as const };
    const onResponse = (res: http.IncomingMessage): void => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ ok: status >= 200 && status < 400, detail: `GET ${path}: HTTP ${status}` });
    };
    const req = https_
      ? https.get({ ...options, rejectUnauthorized: false }, onResponse)
      : http.get(options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, detail: `GET ${path}: ${err.message}` }));
  });
}

function tcpProbe(port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, detail: `TCP ${port}: connected` });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, detail: `TCP ${port}: timed out` });
    });
    socket.once('error', (err) => resolve({ ok: false, detail: `TCP ${port}: ${err.message}` }));
  });
}

/** One probe. `localPort` maps the template's port (name or number) to the replica's local port. */
export function probeOnce(
  probe: Probe,
  localPort: (port: number | string) => number | undefined,
): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  const target = probe.httpGet?.port ?? probe.tcpSocket?.port;
  if (target === undefined)
    return Promise.resolve({ ok: true, detail: 'exec probes are not run by the dev runner' });
  const port = localPort(target);
  if (port === undefined)
    return Promise.resolve({ ok: false, detail: `port ${target} is not declared by the container` });
  return probe.httpGet ? httpProbe(probe.httpGet, port, timeoutMs) : tcpProbe(port, timeoutMs);
}

/**
 * Probes periodically and reports transitions: readiness reports true after successThreshold
 * successes and false after failureThreshold failures; liveness and startup report false after
 * failureThreshold failures (then stop: the replica is restarted), startup true on its first success.
 */
export class ProbeWorker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  private state: boolean | undefined;
  lastResult: ProbeResult | undefined;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Probe,
    private readonly localPort: (port: number | string) => number | undefined,
    private readonly onTransition: (ok: boolean, result: ProbeResult) => void,
  ) {}

  start(): this {
    // As the kubelet: readiness starts as failed (no transition to report until it first passes).
    if (this.kind === 'readiness') this.state = false;
    this.schedule((this.probe.initialDelaySeconds ?? 0) * 1000);
    return this;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    const result = await probeOnce(this.probe, this.localPort);
    if (this.stopped) return;
    this.lastResult = result;
    const successThreshold = this.kind === 'readiness' ? (this.probe.successThreshold ?? 1) : 1;
    const failureThreshold = this.probe.failureThreshold ?? 3;
    if (result.ok) {
      this.successes++;
      this.failures = 0;
      if (this.successes >= successThreshold && this.state !== true) this.transition(true, result);
      if (this.kind === 'startup' && this.state === true) return this.stop();
    } else {
      this.failures++;
      this.successes = 0;
      if (this.failures >= failureThreshold && this.state !== false) {
        this.transition(false, result);
        if (this.kind !== 'readiness') return this.stop();
      }
    }
    const periodMs = (this.probe.periodSeconds ?? 10) * 1000;
    this.schedule(Math.max(0, periodMs - (Date.now() - started)));
  }

  private transition(ok: boolean, result: ProbeResult): void {
    this.state = ok;
    this.onTransition(ok, result);
  }
}
