// A load-generator process: opens its share of client connections, sends at its share of the rate
// through each system's normal send path, and counts every delivery per (receiver, sender, n), so
// lost and duplicated deliveries are exact.
import { WebSocket } from 'ws';
import { io, type Socket } from 'socket.io-client';
import { Centrifuge } from 'centrifuge';
import { ChatClient, type WebSocketConstructor } from '@chatcluster/message-sdk';
import type { ClientSpec, FromWorker, System, Tally, ToWorker } from './protocol.js';

interface Conn {
  spec: ClientSpec;
  send(body: string, id: string): Promise<boolean>;
  close(): void;
  /** sender idx -> n -> times received */
  got: Map<number, Map<number, number>>;
}

let system: System = 'message';
const conns: Conn[] = [];
/** idx -> the instance serving the connection, as the server said (message) or as dialled (the others). */
const servedBy: Record<number, string> = {};
const latencies: number[] = [];
let measuring = false;
let lastDelivery = 0;
/** Deliveries of an earlier step that arrived during a later one (not counted there). */
let late = 0;
let step = 0;

const reply = (m: FromWorker) => process.send!(m);

function onBody(conn: Conn, body: string): void {
  const [st, s, n, at] = body.split(':');
  if (Number(st) !== step) {
    late++;
    return;
  }
  const sender = Number(s);
  const seq = Number(n);
  let bySender = conn.got.get(sender);
  if (!bySender) conn.got.set(sender, (bySender = new Map<number, number>()));
  bySender.set(seq, (bySender.get(seq) ?? 0) + 1);
  lastDelivery = Date.now();
  if (measuring) latencies.push(Date.now() - Number(at));
}

async function open(spec: ClientSpec): Promise<Conn> {
  const got = new Map<number, Map<number, number>>();
  if (system === 'message') {
    const client = new ChatClient({
      url: spec.url,
      token: spec.token,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    const conn: Conn = {
      spec,
      got,
      send: (body, id) =>
        client.send(spec.room, body, id).then(
          () => true,
          () => false,
        ),
      close: () => client.close(),
    };
    client.on('message', (e) => onBody(conn, e.message.body));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('subscribe timeout')), 60_000);
      client.on('subscribed', () => {
        clearTimeout(timer);
        resolve();
      });
      client.on('open', (instanceId) => {
        servedBy[spec.idx] = instanceId;
        client.subscribe(spec.room);
      });
      client.connect();
    });
    return conn;
  }
  servedBy[spec.idx] = new URL(spec.url).port;
  if (system === 'centrifugo') {
    // The official SDK: publish resolves once Centrifugo added the publication to the channel's
    // history stream in Redis (its acknowledgement); subscriptions recover from that history.
    const client = new Centrifuge(spec.url, { token: spec.token, websocket: WebSocket });
    const sub = client.newSubscription(spec.room);
    const conn: Conn = {
      spec,
      got,
      send: (body) =>
        sub.publish(body).then(
          () => true,
          () => false,
        ),
      close: () => client.disconnect(),
    };
    sub.on('publication', (ctx) => onBody(conn, ctx.data as string));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('subscribe timeout')), 60_000);
      sub.once('subscribed', (ctx) => {
        clearTimeout(timer);
        // The peer must really store and recover (history and force_recovery on the channel).
        if (ctx.recoverable) resolve();
        else reject(new Error('centrifugo subscription is not recoverable: history is off'));
      });
      sub.subscribe();
      client.connect();
    });
    return conn;
  }
  if (system === 'socketio') {
    const socket: Socket = io(spec.url, { transports: ['websocket'], reconnection: false });
    const conn: Conn = {
      spec,
      got,
      send: (body) => {
        socket.emit('msg', spec.room, body);
        return Promise.resolve(true);
      },
      close: () => socket.close(),
    };
    socket.on('msg', (body: string) => onBody(conn, body));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.emit('join', spec.room);
        resolve();
      });
      socket.once('connect_error', reject);
    });
    return conn;
  }
  const ws = new WebSocket(spec.url);
  const conn: Conn = {
    spec,
    got,
    send: (body) => {
      ws.send(JSON.stringify({ room: spec.room, body }));
      return Promise.resolve(true);
    },
    close: () => ws.terminate(),
  };
  ws.on('message', (data: Buffer) => onBody(conn, data.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ join: spec.room }));
      resolve();
    });
    ws.once('error', reject);
  });
  return conn;
}

async function run(ratePerSec: number, durationMs: number, senders: number[], stepNo: number): Promise<void> {
  step = stepNo;
  const byIdx = new Map(conns.map((c) => [c.spec.idx, c]));
  const mine = senders.map((i) => byIdx.get(i)!).filter(Boolean);
  const sent: Record<number, number> = {};
  const pending: Promise<boolean>[] = [];
  /** [sender, n] of every send, in the order of `pending`. */
  const sends: [number, number][] = [];
  const started = Date.now();
  let issued = 0;
  let rr = 0;
  measuring = true;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = Date.now() - started;
      const due = Math.min(
        Math.floor((elapsed / 1000) * ratePerSec),
        Math.floor((durationMs / 1000) * ratePerSec),
      );
      while (issued < due) {
        const c = mine[rr++ % mine.length]!;
        const n = sent[c.spec.idx] ?? 0;
        sent[c.spec.idx] = n + 1;
        pending.push(c.send(`${step}:${c.spec.idx}:${n}:${Date.now()}`, `b${step}-${c.spec.idx}-${n}`));
        sends.push([c.spec.idx, n]);
        issued++;
      }
      if (elapsed >= durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  // Wait for acknowledgements (the message service and Centrifugo; the others resolve at once).
  const ok = pending.map(() => false);
  let acked = 0;
  pending.forEach((p, k) => {
    void p.then((done) => {
      if (!done) return;
      ok[k] = true;
      acked++;
    });
  });
  const deadline = Date.now() + 20_000;
  while (acked < pending.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // Not acknowledged (yet): the guarantee does not cover them, so they are left out of "lost".
  const unackedSends = sends.filter((_, k) => !ok[k]);
  reply({ kind: 'ran', sent, acked, unacked: unackedSends.length, unackedSends });
}

async function tally(
  sent: Record<number, number>,
  roomOf: Record<number, string>,
  waitMs: number,
  unackedSends: [number, number][],
): Promise<Tally> {
  const unacked = new Set(unackedSends.map(([idx, n]) => `${idx}:${n}`));
  const expectedFor = (c: Conn) =>
    Object.entries(sent).reduce((sum, [idx, n]) => (roomOf[Number(idx)] === c.spec.room ? sum + n : sum), 0);
  const receivedFor = (c: Conn) => [...c.got.values()].reduce((sum, m) => sum + m.size, 0);
  const deadline = Date.now() + waitMs;
  // Until everything expected arrived, or nothing arrived for 5 s, or the deadline.
  while (
    Date.now() < deadline &&
    Date.now() - lastDelivery < 5_000 &&
    conns.some((c) => receivedFor(c) < expectedFor(c))
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  measuring = false;
  let expected = 0;
  let received = 0;
  let lost = 0;
  let duplicated = 0;
  for (const c of conns) {
    for (const [idx, n] of Object.entries(sent)) {
      if (roomOf[Number(idx)] !== c.spec.room) continue;
      const counts = c.got.get(Number(idx));
      for (let k = 0; k < n; k++) {
        if (unacked.has(`${idx}:${k}`)) continue;
        expected++;
        const times = counts?.get(k) ?? 0;
        if (times === 0) lost++;
        else {
          received++;
          duplicated += times - 1;
        }
      }
    }
    c.got.clear();
  }
  const result = { latenciesMs: latencies.splice(0), expected, received, lost, duplicated, late };
  late = 0;
  return result;
}

process.on('message', (m: ToWorker) => {
  void (async () => {
    switch (m.cmd) {
      case 'setup': {
        system = m.system;
        let failed = 0;
        for (let i = 0; i < m.clients.length; i += 50) {
          const opened = await Promise.allSettled(m.clients.slice(i, i + 50).map(open));
          for (const o of opened)
            if (o.status === 'fulfilled') conns.push(o.value);
            else failed++;
        }
        reply({ kind: 'ready', failed, servedBy });
        return;
      }
      case 'run':
        return run(m.ratePerSec, m.durationMs, m.senders, m.step);
      case 'tally':
        reply({ kind: 'tally', tally: await tally(m.sent, m.roomOf, m.waitMs, m.unackedSends) });
        return;
      case 'close':
        for (const c of conns.splice(0)) c.close();
        for (const idx of Object.keys(servedBy)) delete servedBy[Number(idx)];
        reply({ kind: 'closed' });
        setTimeout(() => process.exit(0), 200);
        return;
    }
  })();
});
