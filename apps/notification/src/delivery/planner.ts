// Who gets what for one message: the channel's members minus the sender, minus everyone online,
// by each recipient's settings (mode, muted channels, devices, address). One delivery per
// (recipient, provider, device); a replayed dead letter plans only its own delivery.
import type { MessageCreated, ProviderName } from '../events.js';
import { dedupeKey } from '../keys.js';
import type { MemberDirectory } from '../directory/members.js';
import type { SettingsStore } from '../settings/store.js';

export interface Delivery {
  readonly provider: ProviderName;
  readonly recipientId: string;
  /** Device id for push, `email` for e-mail. */
  readonly target: string;
  /** Device token or e-mail address. */
  readonly address: string;
  /** Its dedupe record. */
  readonly key: string;
}

export type SkipReason =
  | 'online'
  | 'muted'
  | 'preference_none'
  | 'no_device'
  | 'no_address'
  | 'channel_gone'
  | 'not_member'
  /** A replayed delivery whose device or channel is no longer chosen by the recipient's settings. */
  | 'replay_target_gone';

export type Plan =
  | {
      readonly kind: 'deliver';
      readonly senderName: string;
      readonly deliveries: readonly Delivery[];
      readonly skipped: readonly SkipReason[];
    }
  /** The sender is not a member of the channel: a bad event. */
  | { readonly kind: 'unknown_sender' };

export const EMAIL_TARGET = 'email';

export class Planner {
  constructor(
    private readonly directory: MemberDirectory,
    private readonly settings: Pick<SettingsStore, 'online' | 'forRecipients'>,
  ) {}

  async plan(event: MessageCreated): Promise<Plan> {
    const members = await this.directory.members(event.channelId);
    if (members.length === 0) {
      return { kind: 'deliver', senderName: '', deliveries: [], skipped: ['channel_gone'] };
    }
    const sender = members.find((m) => m.userId === event.senderId);
    if (!sender) return { kind: 'unknown_sender' };

    const { replay } = event;
    const skipped: SkipReason[] = [];
    let candidates = members.filter((m) => m.userId !== event.senderId);
    if (replay) {
      candidates = candidates.filter((m) => m.userId === replay.recipient);
      if (candidates.length === 0) skipped.push('not_member');
    }
    const online = await this.settings.online(candidates.map((m) => m.userId));
    const offline = candidates.filter((m) => {
      if (online.has(m.userId)) skipped.push('online');
      return !online.has(m.userId);
    });
    const settings = await this.settings.forRecipients(
      offline.map((m) => m.userId),
      event.channelId,
    );

    const deliveries: Delivery[] = [];
    const add = (provider: ProviderName, recipientId: string, target: string, address: string) =>
      deliveries.push({
        provider,
        recipientId,
        target,
        address,
        key: dedupeKey(event, recipientId, provider, target),
      });
    for (const member of offline) {
      const s = settings.get(member.userId);
      if (!s) continue;
      if (s.mode === 'none') {
        skipped.push('preference_none');
        continue;
      }
      if (s.mutedHere) {
        skipped.push('muted');
        continue;
      }
      const push = s.mode === 'push' || (s.mode === 'auto' && s.devices.length > 0);
      if (push) {
        if (s.devices.length === 0) skipped.push('no_device');
        for (const device of s.devices) add('fcm', member.userId, device.id, device.token);
      } else {
        const address = s.email ?? member.email;
        if (address) add('sendgrid', member.userId, EMAIL_TARGET, address);
        else skipped.push('no_address');
      }
    }

    if (!replay) return { kind: 'deliver', senderName: sender.displayName, deliveries, skipped };
    const only = deliveries.filter(
      (d) => d.provider === replay.provider && (d.provider === 'sendgrid' || d.target === replay.target),
    );
    if (only.length === 0 && skipped.length === 0) skipped.push('replay_target_gone');
    return { kind: 'deliver', senderName: sender.displayName, deliveries: only, skipped };
  }
}
