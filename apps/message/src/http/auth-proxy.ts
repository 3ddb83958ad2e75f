// For the local chat page only (mounted when WEB_DIR is set): forwards /auth/api/v1/* to the auth
// service, so the page needs one origin. In a cluster the ingress routes /api/v1/auth to auth instead.
import { Router, type Request, type Response } from 'express';
import { withTimeout } from '@chatcluster/kit';

export function authProxy(authUrl: string): Router {
  const router = Router();
  router.use('/auth/api/v1', async (req: Request, res: Response) => {
    const target = new URL(`/api/v1${req.url}`, authUrl);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.headers.authorization) headers['authorization'] = req.headers.authorization;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body !== undefined;
    if (hasBody) headers['content-type'] = 'application/json';
    const answer = await withTimeout(
      5_000,
      (signal) =>
        fetch(target, {
          method: req.method,
          headers,
          body: hasBody ? JSON.stringify(req.body) : undefined,
          signal,
        }),
      { operation: 'auth proxy' },
    );
    res.status(answer.status);
    // What a client acts on: the body's type, and when to try again (429, 503).
    for (const name of ['content-type', 'retry-after']) {
      const value = answer.headers.get(name);
      if (value) res.setHeader(name, value);
    }
    res.send(Buffer.from(await answer.arrayBuffer()));
  });
  return router;
}
