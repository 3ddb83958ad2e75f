// Baseline 2, the floor: bare `ws` + ioredis Pub/Sub, one Redis channel per room, nothing on top.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env['PORT']);
const pub = new Redis(process.env['REDIS_URL']!, { enableAutoPipelining: true });
const sub = new Redis(process.env['REDIS_URL']!);
const rooms = new Map<string, Set<WebSocket>>();
sub.on('message', (room: string, body: string) => {
  for (const ws of rooms.get(room) ?? []) ws.send(body);
});
const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (ws) => {
  let room: string | undefined;
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8')) as { join?: string; room?: string; body?: string };
    if (frame.join) {
      room = frame.join;
      let set = rooms.get(room);
      if (!set) {
        rooms.set(room, (set = new Set()));
        void sub.subscribe(room);
      }
      set.add(ws);
    } else if (frame.room && frame.body) {
      void pub.publish(frame.room, frame.body);
    }
  });
  ws.on('close', () => room && rooms.get(room)?.delete(ws));
});
http.listen(port, '127.0.0.1', () => process.send?.('ready'));
