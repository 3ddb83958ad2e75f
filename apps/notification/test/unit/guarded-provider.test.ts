// The resilience around one provider, with a scripted fake client and millisecond timings.
import { createMetrics } from '@chatcluster/kit';
import { expect } from 'chai';
import {
  GuardedProvider,
  type GuardedProviderOptions,
  type StopSignals,
} from '../../src/delivery/guarded-provider.js';
import { notificationMetrics } from '../../src/metrics.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import type { Notification, ProviderClient } from '../../src/providers/provider.js';

type Step = 'ok' | number | 'hang' | { status: number; retryAfterMs: number };

class ScriptedClient implements ProviderClient {
  readonly name = 'sendgrid' as const;
  calls: number[] = [];
  constructor(
    private readonly script: Step[],
    private readonly fallback: Step = 'ok',
  ) {}
  async send(_n: Notification, signal: AbortSignal): Promise<string> {
    this.calls.push(Date.now());
    const step = this.script.shift() ?? this.fallback;
    if (step === 'ok') return 'id-1';
    if (step === 'hang') {
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
      );
    }
    const status = typeof step === 'number' ? step : step.status;
    const retryAfterMs = typeof step === 'number' ? undefined : step.retryAfterMs;
    const failure = status === 400 ? 'rejected' : 'retryable';
    throw new ProviderError('sendgrid', failure, `answered ${status}`, {
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
}

const n: Notification = {
  messageId: 'm',
  channelId: 'c',
  seq: 1,
  recipientId: 'u',
  address: 'a@b.test',
  senderName: 's',
  preview: 'p',
  createdAt: '2026-11-24T00:00:00Z',
};

let prefixes = 0;
function guarded(client: ProviderClient, overrides: Partial<GuardedProviderOptions> = {}): GuardedProvider {
  const kitMetrics = createMetrics(`unit_guarded_${++prefixes}`);
  return new GuardedProvider({
    client,
    kitMetrics,
    metrics: notificationMetrics(kitMetrics),
    callTimeoutMs: 50,
    totalTimeoutMs: 2_000,
    retries: 3,
    backoff: { delaysMs: [5, 5, 5], jitterRatio: 0 },
    retryAfterMaxMs: 100,
    breaker: { consecutiveFailures: 100, volumeThreshold: 1000, resetTimeout: 60_000 },
    bulkhead: { maxConcurrent: 4, maxQueue: 10, queueTimeoutMs: 1000 },
    ...overrides,
  });
}

function signals(): StopSignals & { stopNow: () => void } {
  const stop = new AbortController();
  const cut = new AbortController();
  return { stop: stop.signal, cut: cut.signal, stopNow: () => stop.abort(new Error('stopping')) };
}

describe('a guarded provider', () => {
  const opened: GuardedProvider[] = [];
  const make = (client: ProviderClient, overrides?: Partial<GuardedProviderOptions>) => {
    const g = guarded(client, overrides);
    opened.push(g);
    return g;
  };
  afterEach(() => opened.splice(0).forEach((g) => g.close()));

  it('retries retryable failures until the provider accepts', async () => {
    const client = new ScriptedClient([500, 503]);
    const outcome = await make(client).send(n, signals());
    expect(outcome.kind).to.equal('sent');
    expect(outcome.attempts.map((a) => a.status ?? a.outcome)).to.deep.equal([500, 503, 'sent']);
    expect(client.calls).to.have.length(3);
  });

  it('waits its schedule between retries (the kit retry delaysMs), the last delay repeating', async () => {
    const client = new ScriptedClient([500, 500, 500]);
    const outcome = await make(client, { backoff: { delaysMs: [60, 150], jitterRatio: 0 } }).send(
      n,
      signals(),
    );
    expect(outcome.kind).to.equal('sent');
    const gaps = client.calls.slice(1).map((at, i) => at - client.calls[i]!);
    expect(gaps).to.have.length(3);
    expect(gaps[0]).to.be.at.least(55).and.below(140);
    expect(gaps[1]).to.be.at.least(145);
    expect(gaps[2]).to.be.at.least(145);
  });

  it('does not retry a refusal', async () => {
    const client = new ScriptedClient([400]);
    const outcome = await make(client).send(n, signals());
    expect(outcome.kind).to.equal('rejected');
    expect(client.calls).to.have.length(1);
  });

  it('gives up after the retries, and after the per-call deadline counts as a failure', async () => {
    const failing = new ScriptedClient([], 502);
    const exhausted = await make(failing).send(n, signals());
    expect(exhausted).to.deep.include({ kind: 'exhausted', reason: 'retries_exhausted' });
    expect(failing.calls).to.have.length(4);
    const hanging = new ScriptedClient([], 'hang');
    const timedOut = await make(hanging).send(n, signals());
    expect(timedOut.kind).to.equal('exhausted');
    expect(timedOut.attempts).to.have.length(4);
    for (const a of timedOut.attempts) expect(a.durationMs).to.be.at.least(45);
  });

  it('stops at the total deadline', async () => {
    const hanging = new ScriptedClient([], 'hang');
    // Calls end at 100 ms, retries wait 400 ms: the 800 ms deadline falls in the second wait.
    const outcome = await make(hanging, {
      callTimeoutMs: 100,
      totalTimeoutMs: 800,
      backoff: { delaysMs: [400, 400, 400], jitterRatio: 0 },
    }).send(n, signals());
    expect(outcome).to.deep.include({ kind: 'exhausted', reason: 'deadline_exceeded' });
    expect(hanging.calls).to.have.length(2);
  });

  it('opens its breaker after consecutive failures and then defers without calling', async () => {
    const client = new ScriptedClient([], 500);
    const provider = make(client, {
      breaker: { consecutiveFailures: 3, volumeThreshold: 1000, resetTimeout: 60_000 },
    });
    const first = await provider.send(n, signals());
    expect(first).to.deep.include({ kind: 'deferred', reason: 'circuit_open' });
    expect(client.calls).to.have.length(3);
    expect(provider.accepting).to.equal(false);
    const second = await provider.send(n, signals());
    expect(second).to.deep.include({ kind: 'deferred', reason: 'circuit_open' });
    expect(client.calls).to.have.length(3);
  });

  it('sleeps a short Retry-After and pauses for a long one', async () => {
    const short = new ScriptedClient([{ status: 429, retryAfterMs: 80 }]);
    expect((await make(short).send(n, signals())).kind).to.equal('sent');
    expect(short.calls[1]! - short.calls[0]!).to.be.at.least(75);

    const long = new ScriptedClient([{ status: 429, retryAfterMs: 300 }]);
    const provider = make(long);
    expect(await provider.send(n, signals())).to.deep.include({ kind: 'deferred', reason: 'rate_limited' });
    expect(provider.accepting).to.equal(false);
    expect(await provider.send(n, signals())).to.deep.include({ kind: 'deferred', reason: 'rate_limited' });
    expect(long.calls).to.have.length(1);
    await new Promise((r) => setTimeout(r, 320));
    expect(provider.accepting).to.equal(true);
    expect((await provider.send(n, signals())).kind).to.equal('sent');
  });

  it('tells the dedupe record when a call opens and when an answer proves nothing went out', async () => {
    const events: string[] = [];
    const hooks = {
      beforeCall: () => Promise.resolve(void events.push('call')),
      afterRefusal: () => Promise.resolve(void events.push('refused')),
    };
    await make(new ScriptedClient([500, 'ok'])).send(n, signals(), hooks);
    expect(events).to.deep.equal(['call', 'refused', 'call']);
    events.length = 0;
    // After a timeout the outcome is unknown: a later refusal does not make it "nothing went out".
    await make(new ScriptedClient(['hang', 500, 'ok'])).send(n, signals(), hooks);
    expect(events).to.deep.equal(['call', 'call', 'call']);
  });

  it('makes no call when the dedupe record cannot be marked', async () => {
    const client = new ScriptedClient([]);
    const hooks = {
      beforeCall: () => Promise.reject(new Error('redis down')),
      afterRefusal: () => Promise.resolve(),
    };
    expect(await make(client).send(n, signals(), hooks)).to.deep.include({
      kind: 'deferred',
      reason: 'dedupe_unavailable',
    });
    expect(client.calls).to.have.length(0);
  });

  it('starts no call once the service is stopping', async () => {
    const client = new ScriptedClient([]);
    const s = signals();
    s.stopNow();
    expect(await make(client).send(n, s)).to.deep.include({ kind: 'deferred', reason: 'shutdown' });
    expect(client.calls).to.have.length(0);
  });
});
