// Baseline 1: what most Node teams would pick: Socket.IO 4 rooms across processes through
// @socket.io/redis-adapter. No persistence, no acknowledgements, no resume.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.env['PORT']);
const pub = new Redis(process.env['REDIS_URL']!);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, {
  adapter: createAdapter(pub, sub),
  transports: ['websocket'],
  serveClient: false,
});
io.on('connection', (socket) => {
  socket.on('join', (room: string) => void socket.join(room));
  socket.on('msg', (room: string, body: string) => {
    io.to(room).emit('msg', body);
  });
});
http.listen(port, '127.0.0.1', () => process.send?.('ready'));
