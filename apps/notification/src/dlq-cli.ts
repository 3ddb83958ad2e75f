#!/usr/bin/env node
// chatcluster-notify-dlq: list, replay and purge the notification dead letters (docs/notification-service.md,
// "Dead letters"). Reads REDIS_URL (and NOTIFY_STREAM / NOTIFY_DEAD_STREAM when the defaults were changed).
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { DeadLetters, type DeadLetter, type DeadLetterFilter } from './deadletter/dead-letters.js';

const usage = `usage: chatcluster-notify-dlq <command> [options]

commands:
  list     show dead letters, oldest first
  replay   put dead letters back on the notification stream (and remove them here)
  purge    delete dead letters

selectors (replay and purge need at least one; list takes them as filters):
  --id <id>             a dead letter's id (repeatable)
  --reason <reason>     e.g. rejected, retries_exhausted, malformed, unknown_sender
  --provider <name>     fcm, sendgrid or none
  --kind <kind>         delivery or event
  --older-than <dur>    e.g. 30m, 12h, 7d
  --all                 every dead letter

options:
  --count <n>           list at most n (default 100)
  --json                list as JSON
  -h, --help

environment: REDIS_URL (required), NOTIFY_STREAM (chat:notify), NOTIFY_DEAD_STREAM (chat:notify:dead)
`;

class UsageError extends Error {}

const durationUnits: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseDuration(raw: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(raw.trim());
  if (!m) throw new UsageError(`--older-than: expected a duration such as 30m, 12h or 7d, got ${raw}`);
  return Number(m[1]) * durationUnits[m[2]!]!;
}

function describe(d: DeadLetter): string {
  const who =
    d.kind === 'delivery' ? `${d.provider} ${d.recipient}${d.target ? `/${d.target}` : ''}` : 'event';
  const tries = d.attempts.length > 0 ? ` calls=${d.attempts.length}` : '';
  const replays = d.replays > 0 ? ` replays=${d.replays}` : '';
  return `${d.id}  ${d.deadAt}  ${d.reason}  ${who}  message=${d.messageId || '-'}${tries}${replays}  ${d.error}`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: 'string', multiple: true },
      reason: { type: 'string' },
      provider: { type: 'string' },
      kind: { type: 'string' },
      'older-than': { type: 'string' },
      all: { type: 'boolean' },
      count: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (!command || !['list', 'replay', 'purge'].includes(command) || extra.length > 0) {
    throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
  }
  if (values.kind !== undefined && values.kind !== 'delivery' && values.kind !== 'event') {
    throw new UsageError('--kind: expected delivery or event');
  }
  const filter: DeadLetterFilter = {
    ...(values.id ? { ids: values.id } : {}),
    ...(values.reason ? { reason: values.reason } : {}),
    ...(values.provider ? { provider: values.provider } : {}),
    ...(values.kind ? { kind: values.kind } : {}),
    ...(values['older-than'] ? { olderThanMs: parseDuration(values['older-than']) } : {}),
  };
  const selected = Object.keys(filter).length > 0;
  if (command !== 'list' && !selected && !values.all) {
    throw new UsageError(
      `${command} needs a selector (--id, --reason, --provider, --kind, --older-than) or --all`,
    );
  }
  const count = values.count === undefined ? 100 : Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new UsageError('--count: expected a positive integer');

  const url = process.env['REDIS_URL'];
  if (!url) throw new UsageError('REDIS_URL is not set');
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const deadLetters = new DeadLetters(redis, {
      stream: process.env['NOTIFY_STREAM'] || 'chat:notify',
      deadStream: process.env['NOTIFY_DEAD_STREAM'] || 'chat:notify:dead',
    });
    if (command === 'list') {
      const letters = await deadLetters.list(filter, count);
      if (values.json) process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
      else for (const letter of letters) process.stdout.write(`${describe(letter)}\n`);
      if (!values.json) process.stderr.write(`${letters.length} dead letter(s)\n`);
    } else if (command === 'replay') {
      const added = await deadLetters.replay(filter);
      process.stdout.write(`replayed ${added.length} dead letter(s)\n`);
    } else {
      const removed = await deadLetters.purge(filter);
      process.stdout.write(`purged ${removed} dead letter(s)\n`);
    }
    return 0;
  } finally {
    redis.disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (
      err instanceof UsageError ||
      (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`chatcluster-notify-dlq: ${err.message}\n\n${usage}`);
      process.exit(2);
    }
    process.stderr.write(`chatcluster-notify-dlq: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
