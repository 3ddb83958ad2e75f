// A bounded HTTP(S) GET for readiness probes, including mutual TLS (kube-apiserver's /readyz),
// which the global fetch cannot do without an extra dispatcher.
import http from 'node:http';
import https from 'node:https';

export interface HttpGetOptions {
  /** PEM texts for mutual TLS. */
  tls?: { ca: string; cert: string; key: string };
  timeoutMs?: number;
}

export interface HttpGetResult {
  status: number;
  body: string;
}

export function httpGet(url: string, options: HttpGetOptions = {}): Promise<HttpGetResult> {
  return new Promise((resolve, reject) => {
    const onResponse = (response: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    };
    const timeout = options.timeoutMs ?? 2_000;
    const request = url.startsWith('https:')
      ? https.get(url, { ...options.tls, timeout, agent: false }, onResponse)
      : http.get(url, { timeout, agent: false }, onResponse);
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out after ${timeout} ms`)));
    request.on('error', reject);
  });
}
