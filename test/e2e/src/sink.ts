// What the platform's local FCM/SendGrid stand-in (tools/dev provider-sink) accepted: one JSON line per
// notification in its log file.
import { existsSync, readFileSync } from 'node:fs';

export interface Push {
  at: string;
  token: string;
  title: string;
  body: string;
  data: Record<string, string>;
  collapseKey: string | undefined;
}

export interface Mail {
  at: string;
  to: string[];
  subject: string;
  customArgs: Record<string, string>;
}

interface LogLine {
  at: string;
  provider: 'fcm' | 'sendgrid';
  body: string;
}

function lines(logFile: string): LogLine[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LogLine);
}

/** Every push the sink accepted, in order. */
export function pushes(logFile: string): Push[] {
  return lines(logFile)
    .filter((l) => l.provider === 'fcm')
    .map((l) => {
      const { message } = JSON.parse(l.body) as {
        message: {
          token: string;
          notification: { title: string; body: string };
          data: Record<string, string>;
          android?: { collapse_key?: string };
        };
      };
      return {
        at: l.at,
        token: message.token,
        title: message.notification.title,
        body: message.notification.body,
        data: message.data,
        collapseKey: message.android?.collapse_key,
      };
    });
}

/** Every e-mail the sink accepted, in order. */
export function mails(logFile: string): Mail[] {
  return lines(logFile)
    .filter((l) => l.provider === 'sendgrid')
    .map((l) => {
      const body = JSON.parse(l.body) as {
        personalizations: { to: { email: string }[] }[];
        subject: string;
        custom_args: Record<string, string>;
      };
      return {
        at: l.at,
        to: body.personalizations.flatMap((p) => p.to.map((t) => t.email)),
        subject: body.subject,
        customArgs: body.custom_args,
      };
    });
}
