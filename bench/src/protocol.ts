// Messages between the benchmark's orchestrator and its load-generator processes.
export type System = 'message' | 'centrifugo' | 'socketio' | 'wsrelay';

/** Systems whose sends are acknowledged once stored (the others' sends resolve at once). */
export const acknowledging: ReadonlySet<System> = new Set(['message', 'centrifugo']);

export interface ClientSpec {
  idx: number;
  room: string;
  token: string;
  url: string;
  /** The instance `url` points at (index into the run's instances). */
  instance: number;
}

export type ToWorker =
  | { cmd: 'setup'; system: System; clients: ClientSpec[] }
  | { cmd: 'run'; ratePerSec: number; durationMs: number; senders: number[]; step: number }
  | {
      cmd: 'tally';
      sent: Record<number, number>;
      roomOf: Record<number, string>;
      waitMs: number;
      /** [sender, n] of sends never acknowledged: not expected anywhere. */
      unackedSends: [number, number][];
    }
  | { cmd: 'close' };

export interface Tally {
  latenciesMs: number[];
  expected: number;
  received: number;
  lost: number;
  duplicated: number;
  /** Deliveries of an earlier step that arrived during this one. */
  late: number;
}

export type FromWorker =
  | {
      kind: 'ready';
      failed: number;
      /** idx -> the instance that really serves the connection (the message service's hello names it). */
      servedBy: Record<number, string>;
    }
  | {
      kind: 'ran';
      sent: Record<number, number>;
      acked: number;
      unacked: number;
      unackedSends: [number, number][];
    }
  | { kind: 'tally'; tally: Tally }
  | { kind: 'closed' };
