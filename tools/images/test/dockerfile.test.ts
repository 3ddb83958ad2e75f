// What the local cluster's images take from the Dockerfiles: the workspace the build stage assembles,
// where the runtime stage puts it, and the runtime stage's config, merged onto the base's as
// `docker build` would. A runtime stage that could not be reproduced without Docker is refused.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appImageConfig } from '../src/build.js';
import { appImageSpec } from '../src/dockerfile.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

const dockerfile = (
  runtime: string,
  run = 'npm ci && npx tsc -b apps/x && node tools/images/assemble.mjs apps/x /out',
) => `ARG RUNTIME_IMAGE=base:1\nFROM node:20 AS build\nRUN ${run}\nFROM \${RUNTIME_IMAGE}\n${runtime}\n`;

describe('Dockerfile runtime config', () => {
  const services = { auth: 8081, message: 8082, notification: 8083 };
  for (const [component, port] of Object.entries(services)) {
    it(`apps/${component}/Dockerfile: the assembled workspace at /app, the runtime stage's config`, () => {
      const spec = appImageSpec(readFileSync(join(root, `apps/${component}/Dockerfile`), 'utf8'));
      expect(spec).to.deep.equal({
        workspace: `apps/${component}`,
        runtimeFrom: 'gcr.io/distroless/nodejs20-debian12:nonroot',
        appPath: '/app',
        config: {
          workingDir: '/app',
          env: ['NODE_ENV=production'],
          user: '65532:65532',
          exposedPorts: [`${port}/tcp`],
          cmd: [`apps/${component}/dist/src/main.js`],
        },
      });
    });
  }

  it('operator/Dockerfile: the operator workspace, its port and main.js', () => {
    const spec = appImageSpec(readFileSync(join(root, 'operator/Dockerfile'), 'utf8'));
    expect(spec.workspace).to.equal('operator');
    expect(spec.config.exposedPorts).to.deep.equal(['8090/tcp']);
    expect(spec.config.cmd).to.deep.equal(['operator/dist/src/main.js']);
  });

  it('reads both ENV forms, relative WORKDIRs, ports with a protocol, and the shell form', () => {
    const spec = appImageSpec(
      dockerfile(
        [
          'WORKDIR /srv',
          'WORKDIR app',
          'ENV A=1 B="two words" C=',
          'ENV A 3 and more',
          'COPY --from=build /out /srv/app',
          'EXPOSE 53/udp 8080',
          'CMD node main.js',
        ].join('\n'),
      ),
    );
    expect(spec.workspace).to.equal('apps/x');
    expect(spec.runtimeFrom).to.equal('base:1');
    expect(spec.appPath).to.equal('/srv/app');
    expect(spec.config).to.deep.equal({
      workingDir: '/srv/app',
      env: ['B=two words', 'C=', 'A=3 and more'],
      exposedPorts: ['53/udp', '8080/tcp'],
      cmd: ['/bin/sh', '-c', 'node main.js'],
    });
  });

  it('an ENTRYPOINT clears the CMD set before it, as in Docker', () => {
    const spec = appImageSpec(
      dockerfile('COPY --from=build /out /app\nCMD ["a.js"]\nENTRYPOINT ["/bin/tini", "--"]'),
    );
    expect(spec.config.entrypoint).to.deep.equal(['/bin/tini', '--']);
    expect(spec.config.cmd).to.equal(undefined);
  });

  it('refuses what it cannot reproduce: a RUN in the runtime stage, no COPY of the output, another output', () => {
    expect(() => appImageSpec(dockerfile('COPY --from=build /out /app\nRUN apt-get install x'))).to.throw(
      /RUN cannot be reproduced/,
    );
    expect(() => appImageSpec(dockerfile('WORKDIR /app'))).to.throw(/COPY --from/);
    expect(() => appImageSpec(dockerfile('WORKDIR /app\nCOPY --from=build /out .'))).to.throw(
      /absolute path/,
    );
    expect(() => appImageSpec(dockerfile('COPY --from=build /elsewhere /app'))).to.throw(
      /assemble\.mjs <workspace> \/elsewhere/,
    );
    expect(() => appImageSpec('FROM scratch\nCOPY a /a\n')).to.throw(/a build stage and a runtime stage/);
  });

  it("merges the runtime stage onto the base's config: ENV added or replaced, the base's entrypoint kept", () => {
    const base = {
      Env: ['PATH=/usr/bin', 'NODE_ENV=development'],
      Entrypoint: ['/usr/local/bin/node'],
      Cmd: ['--help'],
    };
    expect(
      appImageConfig(base, {
        workingDir: '/app',
        env: ['NODE_ENV=production'],
        user: '65532:65532',
        exposedPorts: ['8082/tcp'],
        cmd: ['main.js'],
      }),
    ).to.deep.equal({
      Env: ['PATH=/usr/bin', 'NODE_ENV=production'],
      Entrypoint: ['/usr/local/bin/node'],
      Cmd: ['main.js'],
      WorkingDir: '/app',
      User: '65532:65532',
      ExposedPorts: { '8082/tcp': {} },
    });
    // No CMD of its own: the base's stays, unless the stage sets its own ENTRYPOINT.
    expect(appImageConfig(base, { env: [], exposedPorts: [] }).Cmd).to.deep.equal(['--help']);
    expect(appImageConfig(base, { env: [], exposedPorts: [], entrypoint: ['/x'] })).to.deep.equal({
      Env: base.Env,
      Entrypoint: ['/x'],
    });
  });
});
