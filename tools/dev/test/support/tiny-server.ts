// A tiny HTTP server standing in for a ChatCluster component in the runner's tests: it serves the
// kit's probe endpoints, shows its environment and feature-flag file, and can be told to fail its
// liveness or readiness probe; /peer fetches PEER_URL (a Service address made local). It logs SIGTERM, and ignores it when IGNORE_SIGTERM=1 (grace-period test).
import { readFileSync } from 'node:fs';
import { createServer, get } from 'node:http';

let live = true;
let ready = true;
const server = createServer((req, res) => {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  switch (req.url) {
    case '/health/liveness':
      return send(live ? 200 : 500, { live });
    case '/health/readiness':
      return send(ready ? 200 : 503, { ready });
    case '/env':
      return send(200, process.env);
    case '/flags': {
      const file = process.env.FEATURE_FLAGS_FILE ?? '';
      return send(200, { file, content: readFileSync(file, 'utf8') });
    }
    case '/peer':
      get(process.env.PEER_URL ?? '', (peer) => {
        let body = '';
        peer.setEncoding('utf8');
        peer.on('data', (chunk: string) => (body += chunk)).on('end', () => send(200, JSON.parse(body)));
      }).on('error', (err) => send(502, { error: err.message }));
      return;
    case '/admin/break-liveness':
      live = false;
      return send(200, { live });
    case '/admin/unready':
      ready = false;
      return send(200, { ready });
    case '/admin/ready':
      ready = true;
      return send(200, { ready });
    default:
      return send(200, { pod: process.env.HOSTNAME, pid: process.pid });
  }
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening on ${process.env.PORT}`));
process.on('SIGTERM', () => {
  console.log('SIGTERM received');
  if (process.env.IGNORE_SIGTERM === '1') return;
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
