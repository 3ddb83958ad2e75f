// Traffic for the SLO tests: a request function called in `concurrency` loops until stopped, every
// answer counted by HTTP status (a request that got no answer counts as "no answer").
export class Load {
  readonly statuses = new Map<number | 'no answer', number>();
  private stopped = false;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly request: () => Promise<number>,
    options: { concurrency: number; pauseMs?: number },
  ) {
    this.loops = Array.from({ length: options.concurrency }, () => this.loop(options.pauseMs ?? 0));
  }

  private async loop(pauseMs: number): Promise<void> {
    while (!this.stopped) {
      let status: number | 'no answer';
      try {
        status = await this.request();
      } catch {
        status = 'no answer';
      }
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /** Answers so far with a status `matches` accepts. */
  count(matches: (status: number | 'no answer') => boolean): number {
    let total = 0;
    for (const [status, n] of this.statuses) if (matches(status)) total += n;
    return total;
  }

  /** Stops after the requests in flight; resolves with the counts. */
  async stop(): Promise<Map<number | 'no answer', number>> {
    this.stopped = true;
    await Promise.all(this.loops);
    return this.statuses;
  }
}
