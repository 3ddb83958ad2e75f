// A stand-in for Google's OAuth 2 token endpoint (tests only), as the service-account flow uses it:
// POST a form with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and an RS256 assertion
// signed by the account's key; the answer is {access_token, expires_in, token_type}. Tokens live
// `lifetimeSeconds` and can be expired early, which is what FCM does to a revoked token.
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceAccountKey } from '../../src/providers/google-oauth.js';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export class GoogleOAuthStandIn {
  readonly clientEmail = 'notification@chatcluster-test.iam.gserviceaccount.com';
  /** Tokens issued, with when each stops working (ms since the epoch). */
  private readonly tokens = new Map<string, number>();
  /** Every exchange answered, in order: the token issued, or why it was refused. */
  readonly exchanges: { issued?: string; refused?: string }[] = [];
  private readonly publicKey: KeyObject;
  private readonly privateKeyPem: string;
  private server: Server | undefined;
  url = '';
  /** expires_in of the next tokens. */
  lifetimeSeconds = 3600;

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.publicKey = publicKey;
    this.privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  /** The key file the service account's owner would download, pointing at this server. */
  serviceAccountKey(): ServiceAccountKey {
    return {
      client_email: this.clientEmail,
      private_key: this.privateKeyPem,
      token_uri: `${this.url}/token`,
    };
  }

  /** Whether FCM would take this bearer token now. */
  accepts(token: string): boolean {
    const expiresAt = this.tokens.get(token);
    return expiresAt !== undefined && Date.now() < expiresAt;
  }

  /** Every token issued so far stops working now (revoked, or the hour is up). */
  expireAll(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  issued(): string[] {
    return this.exchanges.flatMap((e) => (e.issued ? [e.issued] : []));
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = (status: number, body: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.method !== 'POST' || req.url !== '/token') return answer(404, { error: 'not_found' });
        const refusal = this.check(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
        if (refusal) {
          this.exchanges.push({ refused: refusal });
          return answer(400, { error: 'invalid_grant', error_description: refusal });
        }
        const token = `ya29.${randomBytes(18).toString('base64url')}`;
        this.tokens.set(token, Date.now() + this.lifetimeSeconds * 1000);
        this.exchanges.push({ issued: token });
        answer(200, { access_token: token, expires_in: this.lifetimeSeconds, token_type: 'Bearer' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Why the grant is refused, as Google checks it, or undefined when valid. */
  private check(form: URLSearchParams): string | undefined {
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return 'bad grant_type';
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return 'assertion is not a JWT';
    const [header, claims, signature] = parts as [string, string, string];
    const decode = (part: string) =>
      JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (decode(header)['alg'] !== 'RS256') return 'alg must be RS256';
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${header}.${claims}`),
      this.publicKey,
      Buffer.from(signature, 'base64url'),
    );
    if (!signed) return 'invalid JWT signature';
    const c = decode(claims);
    const now = Math.floor(Date.now() / 1000);
    if (c['iss'] !== this.clientEmail) return 'unknown issuer';
    if (c['aud'] !== `${this.url}/token`) return 'wrong audience';
    if (c['scope'] !== FCM_SCOPE) return 'wrong scope';
    if (typeof c['iat'] !== 'number' || typeof c['exp'] !== 'number') return 'iat and exp are required';
    if (c['exp'] <= now || c['exp'] - c['iat'] > 3600 || c['iat'] > now + 60) return 'invalid iat/exp';
    return undefined;
  }
}
