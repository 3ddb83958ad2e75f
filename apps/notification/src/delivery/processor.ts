// What happens to one chat:notify entry: parse it (bad ones are dead-lettered), plan its deliveries,
// run them through their providers, and say whether the entry may be acknowledged. An entry is
// acknowledged only when every delivery is sent, skipped or dead-lettered; otherwise it stays
// pending and comes back (its finished deliveries are skipped by their dedupe records).
import type { Logger } from '@chatcluster/kit';
import type { DeadLetters } from '../deadletter/dead-letters.js';
import { parseEntry, type MessageCreated, type ProviderName } from '../events.js';
import type { NotificationMetrics } from '../metrics.js';
import type { SettingsStore } from '../settings/store.js';
import type { DedupeStore, Lease } from './dedupe.js';
import type { AttemptRecord, GuardedProvider, StopSignals } from './guarded-provider.js';
import type { Delivery, Planner } from './planner.js';

export interface StreamEntry {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

export type EntryResult = 'ack' | 'keep';

/** A delivery still to do, with the tries it has used up so far. */
interface OpenDelivery {
  readonly delivery: Delivery;
  readonly tries: number;
  readonly attempts: readonly AttemptRecord[];
}

type DeliveryResult = { done: true } | { done: false; next: OpenDelivery };

interface PendingPlan {
  readonly event: MessageCreated;
  readonly senderName: string;
  readonly open: readonly OpenDelivery[];
}

export interface EntryProcessorOptions {
  readonly planner: Planner;
  readonly dedupe: DedupeStore;
  /** The configured providers; a delivery to any other is dead-lettered as provider_not_configured. */
  readonly providers: ReadonlyMap<ProviderName, GuardedProvider>;
  readonly deadLetters: DeadLetters;
  readonly settings: Pick<SettingsStore, 'removeToken'>;
  readonly metrics: NotificationMetrics;
  readonly logger: Logger;
  /** Tries (each with its retries) a delivery gets before retryable failures dead-letter it. */
  readonly maxTries: number;
  /**
   * Providers whose deliveries are sent again when a previous call's outcome is unknown (its
   * process died mid-call). Push resends collapse on the device; for the others the delivery is
   * dead-lettered as `outcome_unknown` instead, so nobody gets a second e-mail.
   */
  readonly resendUnknownOutcome: ReadonlySet<ProviderName>;
  /** Plans of deferred entries kept in memory, so a retry does not ask auth again (default 10 000). */
  readonly maxRememberedPlans?: number;
}

export class EntryProcessor {
  /** Deliveries still to do for entries that were kept, by entry id. */
  private readonly plans = new Map<string, PendingPlan>();

  constructor(private readonly options: EntryProcessorOptions) {}

  async process(entry: StreamEntry, signals: StopSignals): Promise<EntryResult> {
    const { logger } = this.options;
    try {
      const plan = this.plans.get(entry.id) ?? (await this.#plan(entry));
      if (plan === 'ack') return 'ack';
      const results = await Promise.all(
        plan.open.map((open) =>
          this.#deliver(entry.id, plan, open, signals).catch((err: unknown): DeliveryResult => {
            // Redis could not lease or record it: not done, so the entry stays pending.
            logger.warn({ err, entryId: entry.id, provider: open.delivery.provider }, 'delivery deferred');
            return { done: false, next: open };
          }),
        ),
      );
      const open = results.flatMap((r) => (r.done ? [] : [r.next]));
      if (open.length === 0) {
        this.plans.delete(entry.id);
        return 'ack';
      }
      this.#remember(entry.id, { ...plan, open });
      return 'keep';
    } catch (err) {
      // Auth or Redis could not answer: the entry stays pending and is tried again later.
      logger.warn({ err, entryId: entry.id }, 'notification entry deferred');
      return 'keep';
    }
  }

  async #plan(entry: StreamEntry): Promise<PendingPlan | 'ack'> {
    const { metrics, deadLetters, logger } = this.options;
    const parsed = parseEntry(entry.fields);
    if (!parsed.ok) {
      await deadLetters.addEvent({
        entryId: entry.id,
        fields: entry.fields,
        reason: parsed.reason,
        error: parsed.detail,
      });
      metrics.deadLettered.inc({ provider: 'none', reason: parsed.reason });
      logger.warn(
        { entryId: entry.id, reason: parsed.reason, detail: parsed.detail },
        'bad notification entry dead-lettered',
      );
      return 'ack';
    }
    const { event } = parsed;
    const plan = await this.options.planner.plan(event);
    if (plan.kind === 'unknown_sender') {
      await deadLetters.addEvent({
        entryId: entry.id,
        fields: entry.fields,
        reason: 'unknown_sender',
        error: `sender ${event.senderId} is not a member of channel ${event.channelId}`,
      });
      metrics.deadLettered.inc({ provider: 'none', reason: 'unknown_sender' });
      logger.warn({ entryId: entry.id, senderId: event.senderId }, 'unknown sender dead-lettered');
      return 'ack';
    }
    for (const reason of plan.skipped) metrics.skipped.inc({ reason });
    return {
      event,
      senderName: plan.senderName,
      open: plan.deliveries.map((delivery) => ({ delivery, tries: 0, attempts: [] })),
    };
  }

  async #deliver(
    entryId: string,
    plan: PendingPlan,
    open: OpenDelivery,
    signals: StopSignals,
  ): Promise<DeliveryResult> {
    const { dedupe, metrics, logger } = this.options;
    const d = open.delivery;
    const provider = this.options.providers.get(d.provider);
    const labels = { provider: d.provider };
    const later: DeliveryResult = { done: false, next: open };
    // Breaker open or provider paused: nothing would be called, so skip the lease round trip.
    if (provider && !provider.accepting) {
      metrics.failed.inc(labels);
      return later;
    }
    const lease = await dedupe.acquire(d.key, { takeDead: plan.event.replay !== undefined });
    switch (lease.status) {
      case 'sent':
        metrics.deduplicated.inc(labels);
        return { done: true };
      case 'dead':
        return { done: true };
      case 'busy':
        return later;
      case 'orphaned':
        if (!this.options.resendUnknownOutcome.has(d.provider)) {
          const error = 'the process calling the provider ended before its answer; it may have been sent';
          return this.#deadLetter(
            entryId,
            plan,
            open,
            lease,
            'outcome_unknown',
            error,
            undefined,
            open.attempts,
          );
        }
        logger.warn(
          { entryId, messageId: plan.event.messageId, provider: d.provider, recipient: d.recipientId },
          'a previous call for this delivery ended with its process; sending again (same collapse id)',
        );
        break;
      case 'acquired':
        break;
    }
    if (!provider) {
      // Not dropped: the dead letter keeps it for a replay once the provider is configured.
      const error = `${d.provider} is not configured in this service (its credentials are not set)`;
      return this.#deadLetter(
        entryId,
        plan,
        open,
        lease,
        'provider_not_configured',
        error,
        undefined,
        open.attempts,
      );
    }

    const outcome = await provider.send(
      {
        messageId: plan.event.messageId,
        channelId: plan.event.channelId,
        seq: plan.event.seq,
        recipientId: d.recipientId,
        address: d.address,
        senderName: plan.senderName,
        preview: plan.event.preview,
        createdAt: plan.event.createdAt,
      },
      signals,
      {
        beforeCall: () => dedupe.markCalling(d.key, lease),
        afterRefusal: () => dedupe.markClaimed(d.key, lease),
      },
    );
    const attempts = [...open.attempts, ...outcome.attempts];
    switch (outcome.kind) {
      case 'sent':
        metrics.sent.inc(labels);
        // Sent is sent: failing to record it is no reason to send again, so it is only logged.
        await dedupe
          .markSent(d.key, outcome.providerId)
          .catch((err: unknown) => logger.error({ err, key: d.key }, 'could not record a sent notification'));
        return { done: true };
      case 'deferred':
        if (outcome.reason !== 'shutdown') metrics.failed.inc(labels);
        await dedupe.release(d.key, lease);
        return { done: false, next: { ...open, attempts } };
      case 'rejected':
        // About this notification (bad token or address), not the provider: not a failure of the SLI.
        if (d.provider === 'fcm' && outcome.code === 'UNREGISTERED') {
          await this.options.settings.removeToken(d.recipientId, d.address);
        }
        return this.#deadLetter(
          entryId,
          plan,
          open,
          lease,
          'rejected',
          outcome.error,
          outcome.code,
          attempts,
        );
      case 'exhausted': {
        metrics.failed.inc(labels);
        const tries = open.tries + 1;
        if (tries < this.options.maxTries) {
          await dedupe.release(d.key, lease);
          return { done: false, next: { delivery: d, tries, attempts } };
        }
        return this.#deadLetter(
          entryId,
          plan,
          open,
          lease,
          outcome.reason,
          outcome.error,
          undefined,
          attempts,
        );
      }
    }
  }

  async #deadLetter(
    entryId: string,
    plan: PendingPlan,
    open: OpenDelivery,
    lease: Lease,
    reason: string,
    error: string,
    code: string | undefined,
    attempts: readonly AttemptRecord[],
  ): Promise<DeliveryResult> {
    const { dedupe, metrics, logger } = this.options;
    const d = open.delivery;
    try {
      await this.options.deadLetters.addDelivery({
        entryId,
        event: plan.event,
        provider: d.provider,
        recipient: d.recipientId,
        target: d.target,
        reason,
        error,
        ...(code ? { code } : {}),
        attempts,
      });
    } catch (err) {
      // Not dead-lettered, so not done: release it and let the entry come back.
      logger.error({ err, key: d.key }, 'could not write a dead letter');
      await dedupe.release(d.key, lease).catch(() => undefined);
      return { done: false, next: open };
    }
    metrics.deadLettered.inc({ provider: d.provider, reason });
    await dedupe.markDead(d.key, reason);
    logger.warn(
      { entryId, provider: d.provider, recipient: d.recipientId, reason, error },
      'notification dead-lettered',
    );
    return { done: true };
  }

  #remember(entryId: string, plan: PendingPlan): void {
    this.plans.delete(entryId);
    this.plans.set(entryId, plan);
    const max = this.options.maxRememberedPlans ?? 10_000;
    while (this.plans.size > max) this.plans.delete(this.plans.keys().next().value!);
  }
}
