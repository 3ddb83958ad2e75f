// The benchmark: two message instances (stored, acknowledged, fanned out) against Socket.IO 4 with
// the Redis adapter and a bare ws + ioredis relay, the same load from separate load-generator
// processes, in one run; prints one JSON line. Not a test: `npm run bench` (see bench/README.md).
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startFerretDB, startRedis } from '@chatcluster/harness';
import { AUDIENCE, ISSUER, startFakeAuth, type FakeAuth } from './fake-auth.js';
import type { ClientSpec, FromWorker, System, Tally, ToWorker } from './protocol.js';
import { measureStoreCeiling } from './store-ceiling.js';

const here = dirname(fileURLToPath(import.meta.url));
const messageMain = join(here, '..', '..', '..', 'apps', 'message', 'dist', 'src', 'main.js');
const serverScript: Record<Exclude<System, 'message'>, string> = {
  socketio: join(here, 'servers', 'socketio.js'),
  wsrelay: join(here, 'servers', 'ws-relay.js'),
};

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    rooms: { type: 'string', default: '100' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '15' },
    /** Unmeasured load at the e2e rate first (JIT, connection pools, channel feeds), for every system alike. */
    'warmup-seconds': { type: 'string', default: '3' },
    'step-seconds': { type: 'string', default: '8' },
    ramp: { type: 'string', default: '1000,2000,3000,4000,6000,8000,10000' },
    'idle-connections': { type: 'string', default: '5000' },
    /** The store alone first (0 skips it): the most message documents per second it takes. */
    'store-seconds': { type: 'string', default: '10' },
    'store-batch': { type: 'string', default: '128' },
    systems: { type: 'string', default: 'message,socketio,wsrelay' },
    workers: { type: 'string', default: '2' },
    /** Directory for CPU profiles of the message instances (written when they exit). */
    profile: { type: 'string' },
  },
});
const C = Number(args.connections);
const R = Number(args.rooms);
const M = Number(args.rate);
const log = (...a: unknown[]) => process.stderr.write(`${a.map(String).join(' ')}\n`);

// ---- processes ----
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (100/s)
}
function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready`);
}

interface Servers {
  urls: string[];
  /** http://host:port of each instance (the message service serves /metrics there). */
  bases: string[];
  pids: number[];
  stop(): Promise<void>;
}

async function startServers(system: System, env: Record<string, string>): Promise<Servers> {
  const children: ChildProcess[] = [];
  const urls: string[] = [];
  const bases: string[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const script = system === 'message' ? messageMain : serverScript[system];
    const profile = system === 'message' && args.profile ? args.profile : undefined;
    const child = fork(script, [], {
      execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [],
      env: {
        ...process.env,
        ...env,
        PORT: String(port),
        INSTANCE_ID: `${system}-${i + 1}`,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(child);
    const base = `http://127.0.0.1:${port}`;
    bases.push(base);
    if (system === 'message') await waitReady(`${base}/health/readiness`, child);
    else await new Promise<void>((resolve) => child.once('message', () => resolve()));
    urls.push(system === 'socketio' ? base : `ws://127.0.0.1:${port}${system === 'message' ? '/ws' : ''}`);
  }
  return {
    urls,
    bases,
    pids: children.map((c) => c.pid!),
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once('exit', () => resolve());
              // A profiled instance must exit on its own to write its profile.
              if (!args.profile) return c.kill('SIGKILL');
              c.kill('SIGTERM');
              setTimeout(() => c.kill('SIGKILL'), 40_000).unref();
            }),
        ),
      );
    },
  };
}

// ---- load generators ----
class Worker {
  readonly child = fork(join(here, 'worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  ask(m: ToWorker, kind: FromWorker['kind']): Promise<FromWorker> {
    return new Promise((resolve) => {
      const on = (reply: FromWorker) => {
        if (reply.kind !== kind) return;
        this.child.off('message', on);
        resolve(reply);
      };
      this.child.on('message', on);
      this.child.send(m);
    });
  }
}

interface Population {
  clients: (ClientSpec & { userId: string })[];
  roomOf: Record<number, string>;
}

async function population(
  n: number,
  rooms: number,
  auth: FakeAuth,
  urls: string[],
  redis: Redis | null,
): Promise<Population> {
  const roomIds = Array.from({ length: rooms }, () => randomUUID());
  const clients = await Promise.all(
    Array.from({ length: n }, async (_, idx) => {
      const userId = randomUUID();
      return {
        idx,
        userId,
        room: roomIds[idx % rooms]!,
        token: await auth.token(userId),
        url: urls[idx % urls.length]!,
      };
    }),
  );
  if (redis)
    await auth.grant(
      redis,
      clients.map((c) => ({ channelId: c.room, userId: c.userId })),
    );
  return { clients, roomOf: Object.fromEntries(clients.map((c) => [c.idx, c.room])) };
}

/** The instance's memory gauges (prom-client's process and V8 heap-space metrics), by series. */
async function memoryGauges(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const gauges: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!/^(nodejs_heap|nodejs_external|process_resident)/.test(line)) continue;
    const at = line.lastIndexOf(' ');
    gauges[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return gauges;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

let stepCounter = 0;

interface Step {
  rate: number;
  deliveriesPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  lost: number;
  duplicated: number;
  late: number;
  sent: number;
  acked: number;
  unacked: number;
}

async function measure(
  workers: Worker[],
  pop: Population,
  rate: number,
  seconds: number,
  messageSystem: boolean,
): Promise<Step> {
  // Every client sends, from the worker that holds its connection.
  const senders = (w: number) => pop.clients.map((c) => c.idx).filter((idx) => idx % workers.length === w);
  const step = ++stepCounter;
  const ran = (await Promise.all(
    workers.map((w, i) =>
      w.ask(
        {
          cmd: 'run',
          ratePerSec: rate / workers.length,
          durationMs: seconds * 1000,
          senders: senders(i),
          step,
        },
        'ran',
      ),
    ),
  )) as Extract<FromWorker, { kind: 'ran' }>[];
  const sent = Object.assign({}, ...ran.map((r) => r.sent)) as Record<number, number>;
  const tallies = (await Promise.all(
    workers.map((w) =>
      w.ask(
        {
          cmd: 'tally',
          sent,
          roomOf: pop.roomOf,
          waitMs: 60_000,
          unackedSends: ran.flatMap((r) => r.unackedSends),
        },
        'tally',
      ),
    ),
  )) as Extract<FromWorker, { kind: 'tally' }>[];
  const all: Tally = { latenciesMs: [], expected: 0, received: 0, lost: 0, duplicated: 0, late: 0 };
  for (const { tally } of tallies) {
    for (const l of tally.latenciesMs) all.latenciesMs.push(l);
    all.expected += tally.expected;
    all.received += tally.received;
    all.lost += tally.lost;
    all.duplicated += tally.duplicated;
    all.late += tally.late;
  }
  const sorted = all.latenciesMs.sort((a, b) => a - b);
  const sentTotal = Object.values(sent).reduce((a, b) => a + b, 0);
  return {
    rate,
    deliveriesPerSec: Math.round(all.received / seconds),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    lost: all.lost,
    duplicated: all.duplicated,
    late: all.late,
    sent: sentTotal,
    acked: messageSystem ? ran.reduce((a, r) => a + r.acked, 0) : 0,
    unacked: messageSystem ? ran.reduce((a, r) => a + r.unacked, 0) : 0,
  };
}

async function withWorkers<T>(
  system: System,
  pop: Population,
  fn: (workers: Worker[]) => Promise<T>,
): Promise<T> {
  const workers = Array.from({ length: Number(args.workers) }, () => new Worker());
  try {
    const readies = await Promise.all(
      workers.map((w, i) =>
        w.ask(
          { cmd: 'setup', system, clients: pop.clients.filter((c) => c.idx % workers.length === i) },
          'ready',
        ),
      ),
    );
    const failed = readies.reduce((a, r) => a + (r as { failed: number }).failed, 0);
    if (failed > 0) throw new Error(`${system}: ${failed} connections failed to open`);
    return await fn(workers);
  } finally {
    await Promise.all(workers.map((w) => w.ask({ cmd: 'close' }, 'closed')));
  }
}

async function main(): Promise<void> {
  const [redisServer, ferret, auth] = await Promise.all([startRedis(), startFerretDB(), startFakeAuth()]);
  const redis = new Redis(redisServer.url);
  const messageEnv = {
    MONGO_URL: `${ferret.url}bench`,
    REDIS_URL: redisServer.url,
    AUTH_URL: auth.url,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    SEND_RATE_PER_MIN: '1000000',
    SEND_BURST: '1000000',
    HTTP_RATE_PER_MIN: '1000000',
    RECENT_CACHE_SIZE: '50',
  };
  const results: Record<string, unknown> = {};
  try {
    if (Number(args['store-seconds']) > 0) {
      results['storeCeiling'] = await measureStoreCeiling(`${ferret.url}bench-ceiling`, {
        seconds: Number(args['store-seconds']),
        batch: Number(args['store-batch']),
        writers: 2,
        channels: R,
      });
      log('store ceiling', JSON.stringify(results['storeCeiling']));
    }
    for (const system of args.systems.split(',') as System[]) {
      const servers = await startServers(
        system,
        system === 'message' ? messageEnv : { REDIS_URL: redisServer.url },
      );
      try {
        const pop = await population(C, R, auth, servers.urls, system === 'message' ? redis : null);
        await withWorkers(system, pop, async (workers) => {
          log(`${system}: ${C} connections in ${R} rooms open`);
          if (Number(args['warmup-seconds']) > 0) {
            await measure(workers, pop, M, Number(args['warmup-seconds']), system === 'message');
          }
          const cpuBefore = servers.pids.map(cpuSeconds);
          const started = Date.now();
          const e2e = await measure(workers, pop, M, Number(args.seconds), system === 'message');
          const elapsed = (Date.now() - started) / 1000;
          const cpu = servers.pids.map((pid, i) => (cpuSeconds(pid) - cpuBefore[i]!) / elapsed);
          log(`${system} e2e`, JSON.stringify(e2e));
          const ramp: Step[] = [];
          let capacity = 0;
          for (const rate of args.ramp.split(',').map(Number)) {
            const step = await measure(
              workers,
              pop,
              rate,
              Number(args['step-seconds']),
              system === 'message',
            );
            ramp.push(step);
            log(`${system} ramp`, JSON.stringify(step));
            if (step.p99 < 100 && step.lost === 0 && step.unacked === 0) capacity = rate;
            else break;
          }
          results[system] = {
            e2e,
            serverCpuCores: cpu.map((c) => Math.round(c * 100) / 100),
            rssMbPerInstance: servers.pids.map((pid) => Math.round(rssBytes(pid) / 1e5) / 10),
            capacityMsgsPerSec: capacity,
            capacityDeliveriesPerSec: ramp.find((s) => s.rate === capacity)?.deliveriesPerSec ?? 0,
            ramp,
          };
        });
      } finally {
        await servers.stop();
      }
    }
    // Idle memory: connections that subscribe and then do nothing.
    const idle = Number(args['idle-connections']);
    if (idle > 0 && args.systems.includes('message')) {
      // A fresh database: FerretDB v1 scans whole collections, and the load phases filled this one.
      const servers = await startServers('message', { ...messageEnv, MONGO_URL: `${ferret.url}bench-idle` });
      try {
        await new Promise((r) => setTimeout(r, 2_000));
        const before = servers.pids.map(rssBytes);
        const gaugesBefore = await Promise.all(servers.bases.map(memoryGauges));
        const pop = await population(idle, Math.max(1, Math.round(idle / 10)), auth, servers.urls, redis);
        await withWorkers('message', pop, async () => {
          // Long enough for the garbage of 5,000 handshakes to be collected.
          await new Promise((r) => setTimeout(r, 20_000));
          const after = servers.pids.map(rssBytes);
          const gaugesAfter = await Promise.all(servers.bases.map(memoryGauges));
          const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
          const perConnectionKb = (bytes: number) => Math.round((bytes / idle / 1024) * 10) / 10;
          const growthKb = (series: string) =>
            perConnectionKb(
              sum(gaugesAfter.map((g, i) => (g[series] ?? 0) - (gaugesBefore[i]![series] ?? 0))),
            );
          // Where the growth went, per series (KB per connection), for whoever works on it.
          log(
            'idle memory growth KB/connection by series',
            JSON.stringify(Object.fromEntries(Object.keys(gaugesAfter[0]!).map((k) => [k, growthKb(k)]))),
          );
          results['idle'] = {
            connections: idle,
            rssGrowthKbPerConnection: perConnectionKb(sum(after) - sum(before)),
            // The JavaScript share of that growth; the rest is socket buffers, zlib, allocator slack.
            heapGrowthKbPerConnection: growthKb('nodejs_heap_size_used_bytes'),
          };
        });
      } finally {
        await servers.stop();
      }
    }
  } finally {
    redis.disconnect();
    await auth.close();
    await Promise.allSettled([redisServer.stop(), ferret.stop()]);
  }
  const cap = (s: string) =>
    (results[s] as { capacityMsgsPerSec?: number } | undefined)?.capacityMsgsPerSec ?? 0;
  const ratios = {
    capacityVsSocketio: cap('socketio') ? Math.round((cap('message') / cap('socketio')) * 100) / 100 : null,
    capacityVsBareRelay: cap('wsrelay') ? Math.round((cap('message') / cap('wsrelay')) * 100) / 100 : null,
    // Above 1.5 the store could carry 1.5x Socket.IO's rate; below it no design that stores every message can.
    storeCeilingVsSocketio:
      cap('socketio') && results['storeCeiling']
        ? Math.round(
            ((results['storeCeiling'] as { docsPerSec: number }).docsPerSec / cap('socketio')) * 100,
          ) / 100
        : null,
  };
  process.stdout.write(`${JSON.stringify({ connections: C, rooms: R, rate: M, ...results, ratios })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log('bench failed:', err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
