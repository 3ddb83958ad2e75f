// Which replicas to start and which to stop, given what runs and what the workload asks for: the
// Deployment controller's rolling update in small (surge up to maxSurge above the count, never below
// count - maxUnavailable available replicas, unhealthy old replicas first), and plain scaling.
// Pure, so every case is unit-tested.

export interface ReplicaView {
  id: string;
  hash: string;
  ready: boolean;
  /** Ready for at least minReadySeconds. */
  available: boolean;
  startedAt: number;
}

export interface ScalingTarget {
  replicas: number;
  templateHash: string;
  maxSurge: number;
  maxUnavailable: number;
}

export interface ScalingPlan {
  start: number;
  stop: string[];
}

/** Not ready first, then the youngest: the cheapest replicas to lose. */
function byCheapestToStop(a: ReplicaView, b: ReplicaView): number {
  if (a.ready !== b.ready) return a.ready ? 1 : -1;
  return b.startedAt - a.startedAt;
}

/** `running` holds the replicas that are not terminating. */
export function planScaling(running: readonly ReplicaView[], target: ScalingTarget): ScalingPlan {
  const current = running.filter((r) => r.hash === target.templateHash);
  const old = running.filter((r) => r.hash !== target.templateHash);
  const stop: string[] = [];
  const desired = Math.max(0, target.replicas);

  if (current.length > desired) {
    stop.push(
      ...[...current]
        .sort(byCheapestToStop)
        .slice(0, current.length - desired)
        .map((r) => r.id),
    );
  }
  if (old.length === 0) return { start: Math.max(0, desired - current.length), stop };

  // Rolling update. Old replicas that are not ready keep nobody available: stop them first.
  const oldUnready = old.filter((r) => !r.available);
  stop.push(...oldUnready.map((r) => r.id));
  const oldAvailable = old.filter((r) => r.available).sort((a, b) => a.startedAt - b.startedAt);
  const availableNow = running.filter((r) => r.available && !stop.includes(r.id)).length;
  const minAvailable = desired - target.maxUnavailable;
  const canStop = Math.max(0, Math.min(oldAvailable.length, availableNow - minAvailable));
  stop.push(...oldAvailable.slice(0, canStop).map((r) => r.id));

  const remaining = running.length - stop.length;
  const keptCurrent = Math.min(current.length, desired);
  const room = desired + target.maxSurge - remaining;
  const start = Math.max(0, Math.min(desired - keptCurrent, room));
  return { start, stop };
}
