// Who a WebSocket belongs to (docs/protocol.md, "Connecting"). The access token never travels in the
// URL, where ingress and proxy access logs keep it: it comes as the first frame
// (`{"type":"auth","token":…}`, what the SDK and the page send), as a `bearer.<jwt>` entry of
// Sec-WebSocket-Protocol, or as an Authorization header (non-browser clients). The query parameter
// `access_token` is refused unless WS_QUERY_TOKEN_ENABLED (deprecated) allows it.
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { bearerToken, KeysUnavailableError, type JwksVerifier } from '@chatcluster/auth-client';
import { CloseCode, wsSubprotocol, wsBearerPrefix } from '@chatcluster/message-sdk';

export interface Claims {
  sub: string;
  exp: number;
}

/** Where the token of an upgrade request is, before the upgrade. */
export type UpgradeToken =
  | { kind: 'token'; token: string }
  /** No token in the request: it must come as the first frame. */
  | { kind: 'first-frame' }
  | { kind: 'refused'; status: number; code: string };

export function upgradeToken(req: IncomingMessage, url: URL, queryTokenEnabled: boolean): UpgradeToken {
  const header = bearerToken(req.headers.authorization);
  if (header) return { kind: 'token', token: header };
  const offered = offeredProtocols(req);
  const bearer = offered.find((p) => p.startsWith(wsBearerPrefix));
  if (bearer) return { kind: 'token', token: bearer.slice(wsBearerPrefix.length) };
  const query = url.searchParams.get('access_token');
  if (query !== null) {
    return queryTokenEnabled
      ? { kind: 'token', token: query }
      : { kind: 'refused', status: 400, code: 'MSG_TOKEN_IN_URL' };
  }
  return { kind: 'first-frame' };
}

/** The subprotocol answered: ours when offered (a browser fails a handshake that answers none). */
export function selectProtocol(protocols: Set<string>): string | false {
  return protocols.has(wsSubprotocol) ? wsSubprotocol : false;
}

function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  return raw ? raw.split(',').map((p) => p.trim()) : [];
}

/** Verifies a token; a failure becomes the HTTP refusal or close code it is answered with. */
export async function verifyToken(
  verifier: JwksVerifier,
  token: string,
): Promise<{ ok: true; claims: Claims } | { ok: false; unavailable: boolean }> {
  try {
    return { ok: true, claims: await verifier.verify(token) };
  } catch (err) {
    return { ok: false, unavailable: err instanceof KeysUnavailableError };
  }
}

export type Frame = [data: Buffer, isBinary: boolean];

/** Frames a client may send after `auth` before its `hello` arrives; more is not a client of ours. */
const maxEarlyFrames = 64;

/**
 * Waits for the `auth` frame of a socket upgraded without a token. Closes it with 4003 when none
 * comes within `deadlineMs`, when the first frame is anything else or its token is invalid, and with
 * 1013 when tokens cannot be verified right now. Resolves the claims and the frames that came after
 * `auth` while it was being verified (to be handled in order), or null once it closed.
 */
export function authenticateFirstFrame(
  ws: WebSocket,
  verifier: JwksVerifier,
  deadlineMs: number,
): Promise<{ claims: Claims; early: Frame[] } | null> {
  return new Promise((resolve) => {
    const early: Frame[] = [];
    let authSeen = false;
    // Both listeners go once it is decided: a `close` listener left on the socket would keep this
    // closure (its timer, promise and early frames) for the connection's whole life.
    const done = (result: { claims: Claims; early: Frame[] } | null) => {
      clearTimeout(deadline);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(result);
    };
    const refuse = (code: number, reason: string) => {
      ws.close(code, reason);
      done(null);
    };
    const deadline = setTimeout(
      () => refuse(CloseCode.unauthenticated, 'authentication timeout'),
      deadlineMs,
    );
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (authSeen) {
        if (early.push([data, isBinary]) > maxEarlyFrames)
          refuse(CloseCode.unauthenticated, 'too many frames before hello');
        return;
      }
      authSeen = true;
      const token = isBinary ? null : authFrameToken(data.toString('utf8'));
      if (token === null) return refuse(CloseCode.unauthenticated, 'the first frame must be auth');
      void verifyToken(verifier, token).then((result) => {
        if (ws.readyState !== ws.OPEN) return done(null);
        if (result.ok) return done({ claims: result.claims, early });
        if (result.unavailable) return refuse(CloseCode.tryAgainLater, 'tokens cannot be verified right now');
        refuse(CloseCode.unauthenticated, 'invalid token');
      });
    };
    const onClose = () => done(null);
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

function authFrameToken(text: string): string | null {
  try {
    const frame = JSON.parse(text) as { type?: unknown; token?: unknown } | null;
    return frame?.type === 'auth' && typeof frame.token === 'string' && frame.token.length > 0
      ? frame.token
      : null;
  } catch {
    return null;
  }
}
