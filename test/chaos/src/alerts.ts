// What reaches Alertmanager: a watcher that polls its API (`/api/v2/alerts`, the alerts it holds and has
// not seen resolved) and remembers when each alert was first and last held, so a scenario can say when
// the expected alert arrived and when it was gone again after recovery.
import { setTimeout as delay } from 'node:timers/promises';

export interface HeldAlert {
  labels: Record<string, string>;
  /** `active`, `suppressed` (inhibited or silenced) or `unprocessed`. */
  state: string;
  firstSeenAt: number;
  lastSeenAt: number;
}

interface ApiAlert {
  labels: Record<string, string>;
  status?: { state: string };
}

export class AlertWatch {
  private readonly held = new Map<string, HeldAlert>();
  private current: HeldAlert[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly alertmanagerUrl: string,
    intervalMs = 1_000,
  ) {
    this.loop = (async () => {
      while (this.running) {
        await this.poll().catch(() => undefined);
        await delay(intervalMs);
      }
    })();
  }

  private async poll(): Promise<void> {
    const res = await fetch(`${this.alertmanagerUrl}/api/v2/alerts`, { signal: AbortSignal.timeout(5_000) });
    const alerts = (await res.json()) as ApiAlert[];
    const now = Date.now();
    this.current = [];
    for (const alert of alerts) {
      const key = JSON.stringify(Object.entries(alert.labels).sort());
      const entry = this.held.get(key) ?? {
        labels: alert.labels,
        state: '',
        firstSeenAt: now,
        lastSeenAt: now,
      };
      entry.lastSeenAt = now;
      entry.state = alert.status?.state ?? 'unknown';
      this.held.set(key, entry);
      this.current.push(entry);
    }
  }

  /** Alerts Alertmanager holds now whose labels include `match`. */
  now(match: Record<string, string>): HeldAlert[] {
    return this.current.filter((a) => Object.entries(match).every(([k, v]) => a.labels[k] === v));
  }

  /** Every alert seen so far whose labels include `match`. */
  seen(match: Record<string, string>): HeldAlert[] {
    return [...this.held.values()].filter((a) => Object.entries(match).every(([k, v]) => a.labels[k] === v));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
