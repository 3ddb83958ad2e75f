// The benchmark: two message instances (stored, acknowledged, fanned out) against Centrifugo v6
// (Redis engine, history and recovery: the peer that stores and recovers), Socket.IO 4 with the Redis
// adapter and a bare ws + ioredis relay, the same load from separate load-generator processes, in one
// run; prints one JSON line. Not a test: `npm run bench` (see bench/README.md).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { createTempDir, freePort, locateBinary, startFerretDB, startRedis } from '@chatcluster/harness';
import { AUDIENCE, ISSUER, startFakeAuth, type FakeAuth } from './fake-auth.js';
import {
  acknowledging,
  type ClientSpec,
  type FromWorker,
  type System,
  type Tally,
  type ToWorker,
} from './protocol.js';
import { measureStoreCeiling } from './store-ceiling.js';

const here = dirname(fileURLToPath(import.meta.url));
const messageMain = join(here, '..', '..', '..', 'apps', 'message', 'dist', 'src', 'main.js');
const serverScript: Record<Exclude<System, 'message' | 'centrifugo'>, string> = {
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
    ramp: { type: 'string', default: '250,500,1000,1500,2000,3000,4000,6000,8000,10000' },
    /**
     * `spread` (default): every room's members, and so its senders, on every instance, as real
     * clients are. `room-per-instance`: the earlier shape, every member of a room on one instance
     * (no fan-out between instances, never two instances sending into one channel).
     */
    placement: { type: 'string', default: 'spread' },
    'idle-connections': { type: 'string', default: '5000' },
    /** The store alone first (0 skips it): the most message documents per second it takes. */
    'store-seconds': { type: 'string', default: '10' },
    'store-batch': { type: 'string', default: '128' },
    systems: { type: 'string', default: 'message,centrifugo,socketio,wsrelay' },
    workers: { type: 'string', default: '2' },
    /** Directory for CPU profiles of the message instances (written when they exit). */
    profile: { type: 'string' },
  },
});
const C = Number(args.connections);
const R = Number(args.rooms);
const M = Number(args.rate);
if (!['spread', 'room-per-instance'].includes(args.placement))
  throw new Error(`unknown --placement ${args.placement}`);
const INSTANCES = 2;
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

/** Centrifugo v6 as a chat server that stores and recovers: Redis engine, history of 300 per channel, force_recovery. */
function centrifugoConfig(port: number, redisUrl: string, secret: string): unknown {
  return {
    http_server: { address: '127.0.0.1', port },
    log: { level: 'error' },
    health: { enabled: true },
    usage_stats: { disabled: true },
    engine: { type: 'redis', redis: { address: redisUrl } },
    client: { token: { hmac_secret_key: secret }, allowed_origins: ['*'] },
    channel: {
      without_namespace: {
        history_size: 300,
        history_ttl: '300s',
        force_recovery: true,
        allow_subscribe_for_client: true,
        allow_publish_for_subscriber: true,
      },
    },
  };
}

async function startServers(system: System, env: Record<string, string>): Promise<Servers> {
  const children: ChildProcess[] = [];
  const urls: string[] = [];
  const bases: string[] = [];
  for (let i = 0; i < INSTANCES; i++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    bases.push(base);
    if (system === 'centrifugo') {
      const dir = createTempDir('centrifugo');
      const config = join(dir, 'config.json');
      writeFileSync(
        config,
        JSON.stringify(centrifugoConfig(port, env['REDIS_URL']!, env['CENTRIFUGO_SECRET']!)),
      );
      const child = spawn(locateBinary('centrifugo'), ['--config', config], {
        cwd: dir,
        env: { ...process.env, GOMAXPROCS: '2' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      await waitReady(`${base}/health`, child);
      urls.push(`ws://127.0.0.1:${port}/connection/websocket`);
      continue;
    }
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

/**
 * Client idx is in room idx % rooms. `spread`: on instance floor(idx / rooms) % instances, so a room's
 * k-th member is on instance k % instances. `room-per-instance`: on instance idx % instances, which
 * with an even room count puts every member of a room on one instance.
 */
function instanceOf(idx: number, rooms: number, instances: number): number {
  return args.placement === 'spread' ? Math.floor(idx / rooms) % instances : idx % instances;
}

async function population(
  n: number,
  rooms: number,
  token: (userId: string) => Promise<string>,
  urls: string[],
  grant: { auth: FakeAuth; redis: Redis } | null,
): Promise<Population> {
  const roomIds = Array.from({ length: rooms }, () => randomUUID());
  const clients = await Promise.all(
    Array.from({ length: n }, async (_, idx) => {
      const userId = randomUUID();
      const instance = instanceOf(idx, rooms, urls.length);
      return {
        idx,
        userId,
        room: roomIds[idx % rooms]!,
        token: await token(userId),
        url: urls[instance]!,
        instance,
      };
    }),
  );
  if (grant)
    await grant.auth.grant(
      grant.redis,
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
  acknowledged: boolean,
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
    acked: acknowledged ? ran.reduce((a, r) => a + r.acked, 0) : 0,
    unacked: acknowledged ? ran.reduce((a, r) => a + r.unacked, 0) : 0,
  };
}

/**
 * The placement really produced, from where each connection is served (the message service names
 * its instance in `hello`; the others by the address dialled): how many rooms have members, and
 * senders (every member sends), on more than one instance, and connections per instance.
 */
export interface Placement {
  shape: string;
  rooms: number;
  roomsOnSeveralInstances: number;
  roomsOnEveryInstance: number;
  connectionsPerInstance: Record<string, number>;
}

function placementOf(pop: Population, servedBy: Record<number, string>): Placement {
  const byRoom = new Map<string, Set<string>>();
  const perInstance: Record<string, number> = {};
  for (const c of pop.clients) {
    const instance = servedBy[c.idx] ?? 'unknown';
    perInstance[instance] = (perInstance[instance] ?? 0) + 1;
    let set = byRoom.get(c.room);
    if (!set) byRoom.set(c.room, (set = new Set()));
    set.add(instance);
  }
  const instances = Object.keys(perInstance).length;
  const spans = [...byRoom.values()].map((s) => s.size);
  return {
    shape: args.placement,
    rooms: byRoom.size,
    roomsOnSeveralInstances: spans.filter((n) => n > 1).length,
    roomsOnEveryInstance: spans.filter((n) => n === instances && n > 1).length,
    connectionsPerInstance: perInstance,
  };
}

async function withWorkers<T>(
  system: System,
  pop: Population,
  fn: (workers: Worker[], placement: Placement) => Promise<T>,
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
    const ready = readies as Extract<FromWorker, { kind: 'ready' }>[];
    const failed = ready.reduce((a, r) => a + r.failed, 0);
    if (failed > 0) throw new Error(`${system}: ${failed} connections failed to open`);
    const placement = placementOf(
      pop,
      Object.assign({}, ...ready.map((r) => r.servedBy)) as Record<number, string>,
    );
    return await fn(workers, placement);
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
  // Centrifugo verifies HS256 connection tokens with this key.
  const centrifugoSecret = randomBytes(32).toString('hex');
  const centrifugoKey = new TextEncoder().encode(centrifugoSecret);
  const centrifugoToken = (userId: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setExpirationTime('2h')
      .sign(centrifugoKey);
  const envOf = (system: System, mongoDb = 'bench'): Record<string, string> =>
    system === 'message'
      ? { ...messageEnv, MONGO_URL: `${ferret.url}${mongoDb}` }
      : { REDIS_URL: redisServer.url, CENTRIFUGO_SECRET: centrifugoSecret };
  const populate = (system: System, n: number, rooms: number, urls: string[]) =>
    population(
      n,
      rooms,
      system === 'centrifugo' ? centrifugoToken : (userId) => auth.token(userId),
      urls,
      system === 'message' ? { auth, redis } : null,
    );
  const results: Record<string, unknown> = {};
  const systems = args.systems.split(',') as System[];
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
    for (const system of systems) {
      const servers = await startServers(system, envOf(system));
      const acked = acknowledging.has(system);
      try {
        const pop = await populate(system, C, R, servers.urls);
        await withWorkers(system, pop, async (workers, placement) => {
          log(`${system}: ${C} connections in ${R} rooms open; placement ${JSON.stringify(placement)}`);
          if (Number(args['warmup-seconds']) > 0) {
            await measure(workers, pop, M, Number(args['warmup-seconds']), acked);
          }
          const cpuBefore = servers.pids.map(cpuSeconds);
          const started = Date.now();
          const e2e = await measure(workers, pop, M, Number(args.seconds), acked);
          const elapsed = (Date.now() - started) / 1000;
          const cpuSpent = servers.pids.map((pid, i) => cpuSeconds(pid) - cpuBefore[i]!);
          const cpu = cpuSpent.map((c) => c / elapsed);
          // The e2e phase's deliveries: every one received, over the measured seconds.
          const deliveries = e2e.deliveriesPerSec * Number(args.seconds);
          log(`${system} e2e`, JSON.stringify(e2e));
          const ramp: Step[] = [];
          let capacity = 0;
          for (const rate of args.ramp.split(',').map(Number)) {
            const step = await measure(workers, pop, rate, Number(args['step-seconds']), acked);
            ramp.push(step);
            log(`${system} ramp`, JSON.stringify(step));
            if (step.p99 < 100 && step.lost === 0 && step.unacked === 0) capacity = rate;
            else break;
          }
          results[system] = {
            placement,
            e2e,
            p99AtE2eMs: e2e.p99,
            serverCpuCores: cpu.map((c) => Math.round(c * 100) / 100),
            // Both instances' CPU over the e2e phase, per 1,000 deliveries received.
            serverCpuMsPer1000Deliveries:
              deliveries > 0
                ? Math.round(((cpuSpent.reduce((a, b) => a + b, 0) * 1000) / deliveries) * 1000 * 10) / 10
                : null,
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
    // Idle memory: connections that subscribe and then do nothing, on two fresh instances of each system.
    const idle = Number(args['idle-connections']);
    const idleResults: Record<string, unknown> = {};
    for (const system of idle > 0 ? systems : []) {
      // A fresh database: FerretDB v1 scans whole collections, and the load phases filled this one.
      const servers = await startServers(system, envOf(system, `bench-idle-${system}`));
      try {
        await new Promise((r) => setTimeout(r, 2_000));
        const before = servers.pids.map(rssBytes);
        const gaugesBefore = system === 'message' ? await Promise.all(servers.bases.map(memoryGauges)) : [];
        const pop = await populate(system, idle, Math.max(1, Math.round(idle / 10)), servers.urls);
        await withWorkers(system, pop, async () => {
          // Long enough for the garbage of 5,000 handshakes to be collected.
          await new Promise((r) => setTimeout(r, 20_000));
          const after = servers.pids.map(rssBytes);
          const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
          const perConnectionKb = (bytes: number) => Math.round((bytes / idle / 1024) * 10) / 10;
          const result: Record<string, number> = {
            connections: idle,
            rssGrowthKbPerConnection: perConnectionKb(sum(after) - sum(before)),
          };
          if (system === 'message') {
            const gaugesAfter = await Promise.all(servers.bases.map(memoryGauges));
            const growthKb = (series: string) =>
              perConnectionKb(
                sum(gaugesAfter.map((g, i) => (g[series] ?? 0) - (gaugesBefore[i]![series] ?? 0))),
              );
            // Where the growth went, per series (KB per connection), for whoever works on it.
            log(
              'idle memory growth KB/connection by series',
              JSON.stringify(Object.fromEntries(Object.keys(gaugesAfter[0]!).map((k) => [k, growthKb(k)]))),
            );
            // The JavaScript share of that growth; the rest is socket buffers, zlib, allocator slack.
            result['heapGrowthKbPerConnection'] = growthKb('nodejs_heap_size_used_bytes');
          }
          idleResults[system] = result;
          log(`${system} idle`, JSON.stringify(result));
        });
      } finally {
        await servers.stop();
      }
    }
    if (idle > 0) results['idle'] = idleResults;
  } finally {
    redis.disconnect();
    await auth.close();
    await Promise.allSettled([redisServer.stop(), ferret.stop()]);
  }
  const of = (s: string) =>
    results[s] as { capacityMsgsPerSec: number; serverCpuMsPer1000Deliveries: number | null } | undefined;
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a != null && b ? Math.round((a / b) * 100) / 100 : null;
  const ceiling = (results['storeCeiling'] as { docsPerSec: number } | undefined)?.docsPerSec;
  const ratios = {
    capacityVsSocketio: ratio(of('message')?.capacityMsgsPerSec, of('socketio')?.capacityMsgsPerSec),
    capacityVsCentrifugo: ratio(of('message')?.capacityMsgsPerSec, of('centrifugo')?.capacityMsgsPerSec),
    capacityVsBareRelay: ratio(of('message')?.capacityMsgsPerSec, of('wsrelay')?.capacityMsgsPerSec),
    // The share of the store's own ceiling the message service carries (target: 0.8 or more).
    capacityVsStoreCeiling: ratio(of('message')?.capacityMsgsPerSec, ceiling),
    cpuPerDeliveryVsSocketio: ratio(
      of('message')?.serverCpuMsPer1000Deliveries,
      of('socketio')?.serverCpuMsPer1000Deliveries,
    ),
    cpuPerDeliveryVsCentrifugo: ratio(
      of('message')?.serverCpuMsPer1000Deliveries,
      of('centrifugo')?.serverCpuMsPer1000Deliveries,
    ),
    cpuPerDeliveryVsBareRelay: ratio(
      of('message')?.serverCpuMsPer1000Deliveries,
      of('wsrelay')?.serverCpuMsPer1000Deliveries,
    ),
    // Above 1.5 the store could carry 1.5x Socket.IO's rate; below it no design that stores every message can.
    storeCeilingVsSocketio: ratio(ceiling, of('socketio')?.capacityMsgsPerSec),
  };
  process.stdout.write(
    `${JSON.stringify({ connections: C, rooms: R, rate: M, placement: args.placement, ...results, ratios })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log('bench failed:', err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
