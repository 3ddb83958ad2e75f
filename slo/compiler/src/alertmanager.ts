// Alertmanager routing for the SLO alerts: `critical` pages, `warning` goes to chat, alerts are
// grouped per SLO, and a page silences the same SLO's tickets while it fires.

/** An Alertmanager receiver: its name plus any *_configs (webhook, pagerduty, slack...). */
export interface Receiver {
  name: string;
  [configs: string]: unknown;
}

export interface AlertmanagerOptions {
  /** Receives `severity="critical"`; default a webhook named "pager". */
  pager?: Receiver;
  /** Receives `severity="warning"` and anything unmatched; default a webhook named "chat". */
  chat?: Receiver;
  /**
   * Labels that make alerts "the same SLO" for grouping and inhibition; default ['slo']. Add the
   * label that tells ChatClusters apart when one Alertmanager serves several.
   */
  sloLabels?: string[];
  /** Wait before the first notification of a new group; default 30s. */
  groupWait?: string;
  /** Wait before notifying about new alerts in a group; default 5m. */
  groupInterval?: string;
  /** Re-send of a still-firing page; default 1h (tickets: 12h). */
  pageRepeatInterval?: string;
  ticketRepeatInterval?: string;
}

export const DEFAULT_PAGER_WEBHOOK = 'http://127.0.0.1:9095/pager';
export const DEFAULT_CHAT_WEBHOOK = 'http://127.0.0.1:9095/chat';

export interface AlertmanagerConfig {
  route: {
    receiver: string;
    group_by: string[];
    group_wait: string;
    group_interval: string;
    repeat_interval: string;
    routes: { receiver: string; matchers: string[]; repeat_interval: string }[];
  };
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
  receivers: Receiver[];
}

export function alertmanagerConfig(options: AlertmanagerOptions = {}): AlertmanagerConfig {
  const pager = options.pager ?? {
    name: 'pager',
    webhook_configs: [{ url: DEFAULT_PAGER_WEBHOOK, send_resolved: true }],
  };
  const chat = options.chat ?? {
    name: 'chat',
    webhook_configs: [{ url: DEFAULT_CHAT_WEBHOOK, send_resolved: true }],
  };
  if (pager.name === chat.name)
    throw new Error(`the pager and chat receivers need different names, both are "${pager.name}"`);
  const ticketRepeat = options.ticketRepeatInterval ?? '12h';
  const sloLabels = options.sloLabels ?? ['slo'];
  return {
    route: {
      receiver: chat.name,
      group_by: [...sloLabels],
      group_wait: options.groupWait ?? '30s',
      group_interval: options.groupInterval ?? '5m',
      repeat_interval: ticketRepeat,
      routes: [
        {
          receiver: pager.name,
          matchers: ['severity="critical"'],
          repeat_interval: options.pageRepeatInterval ?? '1h',
        },
        { receiver: chat.name, matchers: ['severity="warning"'], repeat_interval: ticketRepeat },
      ],
    },
    inhibit_rules: [
      {
        // `slo=~".+"`: without it, two alerts that both lack the label would count as the same SLO.
        source_matchers: ['severity="critical"', ...sloLabels.map((label) => `${label}=~".+"`)],
        target_matchers: ['severity="warning"'],
        equal: [...sloLabels],
      },
    ],
    receivers: [pager, chat],
  };
}
