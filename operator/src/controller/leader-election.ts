// Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews the lease
// every retry period; a candidate takes it over only once it has not seen the lease change for a whole
// lease duration, measured on its own monotonic clock from when it observed the last change (client-go's
// observedTime). The holder's renewTime is never compared with the local clock: the two clocks may
// differ by minutes. Every write is conditional on the resourceVersion read, so two candidates can never
// both win. A leader that cannot renew within the renew deadline stops leading before anyone else may.
import { performance } from 'node:perf_hooks';
import { isConflict, isNotFound, type KubeClient } from '../kube/client.js';
import { LEASE } from '../kube/resources.js';
import { stableJson } from '../util/stable-json.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const microTime = (date: Date): string => date.toISOString().replace('Z', '000Z');

export class LeaderElector {
  readonly #opts: Required<LeaderElectionOptions>;
  #leading = false;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #lastRenew = 0;
  /** The lease record last seen, and when (local monotonic ms) it was first seen like that. */
  #observedRecord: string | undefined;
  #observedAt = 0;

  constructor(
    private readonly client: KubeClient,
    options: LeaderElectionOptions,
    private readonly callbacks: {
      onStartedLeading: () => void;
      onStoppedLeading: () => void;
      onError?: (err: unknown) => void;
    },
  ) {
    this.#opts = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2, ...options };
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over without waiting it out. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    if (this.#leading) {
      this.#leading = false;
      await this.#release().catch((err: unknown) => this.callbacks.onError?.(err));
      this.callbacks.onStoppedLeading();
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        const held = await this.#tryAcquireOrRenew();
        if (held) {
          this.#lastRenew = performance.now();
          if (!this.#leading) {
            this.#leading = true;
            this.callbacks.onStartedLeading();
          }
        } else if (this.#leading) {
          this.#loseLeadership();
        }
      } catch (err) {
        this.callbacks.onError?.(err);
        if (this.#leading && performance.now() - this.#lastRenew > this.#opts.renewDeadlineSeconds * 1000) {
          this.#loseLeadership();
        }
      }
      await this.#sleep(this.#opts.retryPeriodSeconds * 1000);
    }
  }

  #loseLeadership(): void {
    this.#leading = false;
    this.callbacks.onStoppedLeading();
  }

  #observe(spec: Lease['spec']): void {
    const record = stableJson(spec);
    if (record === this.#observedRecord) return;
    this.#observedRecord = record;
    this.#observedAt = performance.now();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const { namespace, name, identity, leaseDurationSeconds } = this.#opts;
    let lease: Lease;
    try {
      lease = await this.client.get<Lease>(LEASE, namespace, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.client.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        } as never);
        return true;
      } catch (createErr) {
        if (isConflict(createErr)) return false; // another candidate created it first
        throw createErr;
      }
    }
    const spec = lease.spec;
    this.#observe(spec);
    const holder = spec.holderIdentity ?? '';
    const expired =
      this.#observedAt + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 <= performance.now();
    if (holder !== identity && holder !== '' && !expired) return false;
    const takingOver = holder !== identity;
    const next: Lease = {
      ...lease,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: takingOver ? microTime(now) : (spec.acquireTime ?? microTime(now)),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
      },
    };
    try {
      await this.client.update(next); // conditional on lease.metadata.resourceVersion
      this.#observe(next.spec);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async #release(): Promise<void> {
    const { namespace, name, identity } = this.#opts;
    const lease = await this.client.get<Lease>(LEASE, namespace, name);
    if (lease.spec.holderIdentity !== identity) return;
    await this.client.update({
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: null,
        leaseDurationSeconds: 1,
        renewTime: microTime(new Date()),
      },
    } as never);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
