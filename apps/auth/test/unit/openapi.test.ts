// docs/openapi/auth.yaml is the contract other teams code against: it must list exactly the routes
// the service serves and every error code it can answer with.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Router } from 'express';
import { parse } from 'yaml';
import { authErrors } from '../../src/errors.js';
import { authRoutes, type RouteDeps } from '../../src/http/routes.js';

const documentUrl = new URL('../../../../../docs/openapi/auth.yaml', import.meta.url);
const document = parse(readFileSync(documentUrl, 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
};

/** Every `METHOD /path` the router serves, with express's `:param` written as OpenAPI's `{param}`. */
function served(router: Router): string[] {
  return router.stack.flatMap((layer) => {
    const route = layer.route as { path: string; methods: Record<string, boolean> } | undefined;
    if (!route) return [];
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    return Object.keys(route.methods).map((method) => `${method.toUpperCase()} ${path}`);
  });
}

describe('the OpenAPI document', () => {
  // Building the router only wires handlers; none of the dependencies is called.
  const router = authRoutes({ issuer: 'i', audience: 'a' } as unknown as RouteDeps);

  it('documents exactly the routes the service serves (besides the kit’s probes and /metrics)', () => {
    const kitPaths = new Set(['/health/liveness', '/health/readiness', '/metrics']);
    const documented = Object.entries(document.paths)
      .filter(([path]) => !kitPaths.has(path))
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((k) => k !== 'parameters')
          .map((m) => `${m.toUpperCase()} ${path}`),
      );
    expect(served(router).sort()).to.deep.equal(documented.sort());
  });

  it('names every error code of the service', () => {
    const text = readFileSync(documentUrl, 'utf8');
    for (const code of Object.keys(authErrors)) expect(text, code).to.include(code);
  });
});
