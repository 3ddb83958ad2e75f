// Real data for the backup tests: the auth schema created by auth's own migrations (its migrate CLI)
// with users, channels and memberships, and a message store with documents and indexes shaped like
// apps/message/src/store/models.ts.
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@chatcluster/harness';
import { MongoClient } from 'mongodb';
import pg from 'pg';

const migrateCli = fileURLToPath(new URL('../../../../apps/auth/dist/src/migrate-cli.js', import.meta.url));

export async function migrateAuth(postgresUrl: string, command = 'up'): Promise<string> {
  const result = await runCommand(process.execPath, [migrateCli, command], {
    env: { POSTGRES_URL: postgresUrl },
  });
  if (result.code !== 0)
    throw new Error(`auth migrate-cli ${command} failed: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

export async function seedAuth(postgresUrl: string, counts = { users: 40, channels: 8 }): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    const users: string[] = [];
    for (let i = 0; i < counts.users; i++) {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO users (username, email, display_name, password_hash, created_at)
         VALUES ($1, $2, $3, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now() - make_interval(mins => $4))
         RETURNING id`,
        [`User${i}`, `user${i}@example.test`, `User ${i}`, counts.users - i],
      );
      users.push(rows[0]!.id);
    }
    for (let c = 0; c < counts.channels; c++) {
      const owner = users[c % users.length]!;
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO channels (name, visibility, created_by, created_at) VALUES ($1, $2, $3, now() - make_interval(mins => $4))
         RETURNING id`,
        [`channel-${c}`, c % 3 === 0 ? 'private' : 'public', owner, counts.channels - c],
      );
      const channel = rows[0]!.id;
      await client.query(`INSERT INTO memberships (channel_id, user_id, role) VALUES ($1, $2, 'owner')`, [
        channel,
        owner,
      ]);
      for (let u = 0; u < users.length; u++) {
        if (users[u] === owner || (u + c) % 3 !== 0) continue;
        await client.query(
          `INSERT INTO memberships (channel_id, user_id, role, left_at) VALUES ($1, $2, 'member', $3)`,
          [channel, users[u], u % 7 === 0 ? new Date() : null],
        );
      }
    }
    await client.query(
      `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at)
       SELECT gen_random_uuid(), id, sha256(convert_to(id::text, 'UTF8')), now() + interval '30 days' FROM users LIMIT 10`,
    );
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

/** A message as apps/message/src/store/models.ts stores it (string ids). */
interface MessageShape {
  _id: string;
  channelId: string;
  seq: number;
  [field: string]: unknown;
}

/** Indexes as apps/message/src/store/models.ts declares them. */
const MESSAGE_INDEXES = [
  { key: { channelId: 1, seq: 1 }, name: 'channel_seq', unique: true },
  { key: { channelId: 1, clientMessageId: 1 }, name: 'channel_client_message_id', unique: true },
  { key: { channelId: 1, updatedAt: 1 }, name: 'channel_updated' },
  { key: { outboxAt: 1 }, name: 'outbox' },
  { key: { deletedAt: 1 }, name: 'deleted' },
] as const;

export async function seedMessages(mongoUrl: string, channels = 4, perChannel = 30): Promise<void> {
  const client = new MongoClient(mongoUrl);
  await client.connect();
  try {
    const db = client.db();
    await db.collection('messages').createIndexes(MESSAGE_INDEXES.map((i) => ({ ...i })));
    const base = Date.UTC(2025, 0, 1);
    for (let c = 0; c < channels; c++) {
      const channelId = randomUUID();
      const docs = Array.from({ length: perChannel }, (_, i): MessageShape => {
        const seq = i + 1;
        const at = new Date(base + c * 100_000 + seq * 1_000);
        const deleted = seq % 11 === 0;
        return {
          _id: createHash('sha1').update(`${channelId}:${seq}`).digest('hex').slice(0, 24),
          channelId,
          seq,
          senderId: randomUUID(),
          clientMessageId: randomUUID(),
          body: deleted ? '' : `message ${seq} in channel ${c} ✓`,
          createdAt: at,
          updatedAt: at,
          editedAt: seq % 5 === 0 ? at : null,
          deletedAt: deleted ? at : null,
          reactions: seq % 4 === 0 ? { '👍': [randomUUID(), randomUUID()] } : {},
          version: seq % 5 === 0 ? 2 : 1,
          lastEvent: seq % 5 === 0 ? 'message.edited' : 'message.created',
          ...(seq === perChannel ? { outboxAt: at } : {}),
        };
      });
      await db.collection<MessageShape>('messages').insertMany(docs);
      await db
        .collection<{ _id: string; seq: number }>('channel_counters')
        .insertOne({ _id: channelId, seq: perChannel });
    }
    await db
      .collection<{ _id: string; deletedAt: Date; authSeq: number }>('deleted_channels')
      .insertOne({ _id: randomUUID(), deletedAt: new Date(base), authSeq: 7 });
  } finally {
    await client.close();
  }
}
