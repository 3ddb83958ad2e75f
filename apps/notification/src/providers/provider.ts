// What the delivery pipeline hands a provider client and gets back. Clients only speak HTTP; timeouts,
// retries, breakers and bulkheads are added around them (delivery/guarded-provider.ts).
import type { ProviderName } from '../events.js';

/** One notification to one address: a device token (push) or an e-mail address. */
export interface Notification {
  readonly messageId: string;
  readonly channelId: string;
  readonly seq: number;
  readonly recipientId: string;
  /** Device token for FCM, e-mail address for SendGrid. */
  readonly address: string;
  readonly senderName: string;
  readonly preview: string;
  readonly createdAt: string;
}

export interface ProviderClient {
  readonly name: ProviderName;
  /**
   * Sends one notification; resolves to the provider's id for it. Rejects with ProviderError for
   * answers that are not a success and for transport errors; must stop when `signal` aborts.
   */
  send(notification: Notification, signal: AbortSignal): Promise<string>;
}
