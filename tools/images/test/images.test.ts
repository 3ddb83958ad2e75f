// What can be checked about the container images without a Docker engine: each Dockerfile is
// multi-stage, copies only sources that exist, builds and assembles its own workspace, runs as a
// non-root user; `make images` tags them with the names the operator and the Helm chart pull; the
// assembled runtime file set holds no development package and resolves every import of main.js; and
// the kind example's data stores answer at the addresses its Secrets name.
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, removeTempDir, runCommand } from '@chatcluster/harness';
import yaml from 'js-yaml';
import { parseDockerfile } from '../src/dockerfile.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const WORKSPACES = {
  auth: 'apps/auth',
  message: 'apps/message',
  notification: 'apps/notification',
  operator: 'operator',
};
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

const dockerfilePath = (workspace: string): string => `${workspace}/Dockerfile`;

describe('container images (without Docker)', function () {
  this.timeout(120_000);

  for (const [component, workspace] of Object.entries(WORKSPACES)) {
    describe(`${component}: ${dockerfilePath(workspace)}`, () => {
      const stages = parseDockerfile(read(dockerfilePath(workspace)));
      const [build, runtime] = [stages[0]!, stages.at(-1)!];

      it('is multi-stage: a Node 20 build stage that compiles and assembles this workspace, a small runtime', () => {
        expect(stages).to.have.length(2);
        expect(build.from).to.equal('node:20-bookworm-slim');
        expect(runtime.from).to.equal('gcr.io/distroless/nodejs20-debian12:nonroot');
        const run = build.instructions
          .filter((i) => i.keyword === 'RUN')
          .map((i) => i.args)
          .join(' && ');
        expect(run).to.contain('npm ci');
        expect(run).to.contain(`npx tsc -b ${workspace} `);
        expect(run).to.contain(`node tools/images/assemble.mjs ${workspace} /out`);
      });

      it('copies only sources that exist, and from stages that exist', () => {
        for (const stage of stages) {
          for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
            const parts = copy.args.split(/\s+/);
            const fromStage = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
            const sources = parts.filter((p) => !p.startsWith('--')).slice(0, -1);
            expect(sources, copy.args).to.not.be.empty;
            if (fromStage) {
              expect(
                stages.map((s) => s.name),
                copy.args,
              ).to.include(fromStage);
              expect(sources, 'the assembled output').to.deep.equal(['/out']);
            } else {
              for (const source of sources)
                expect(existsSync(join(root, source)), `${source} in ${copy.args}`).to.equal(true);
            }
          }
        }
        expect(existsSync(join(root, 'tools/images/assemble.mjs'))).to.equal(true);
      });

      it('runs as a non-root user and starts the workspace main.js', () => {
        const users = runtime.instructions.filter((i) => i.keyword === 'USER').map((i) => i.args);
        expect(users).to.deep.equal(['65532:65532']);
        const cmd = runtime.instructions.find((i) => i.keyword === 'CMD')!.args;
        expect(JSON.parse(cmd)).to.deep.equal([`${workspace}/dist/src/main.js`]);
        expect(existsSync(join(root, workspace, 'src/main.ts'))).to.equal(true);
      });

      it('assembles a runtime file set without development packages that loads main.js', async () => {
        const out = createTempDir(`image-${component}`);
        try {
          const assembled = await runCommand(
            process.execPath,
            ['tools/images/assemble.mjs', workspace, out],
            { cwd: root },
          );
          expect(assembled.code, assembled.stderr).to.equal(0);
          const modules = readdirSync(join(out, 'node_modules'));
          for (const dev of ['typescript', 'mocha', 'chai', 'eslint', 'prettier', 'playwright-core']) {
            expect(modules, dev).to.not.include(dev);
          }
          expect(readdirSync(join(out, 'node_modules', '@chatcluster'))).to.not.include('harness');
          // What package.json `files` names ships too: the message image serves the chat page from it.
          const shipped = (JSON.parse(read(`${workspace}/package.json`)) as { files?: string[] }).files ?? [];
          for (const entry of shipped) expect(existsSync(join(out, workspace, entry)), entry).to.equal(true);
          if (component === 'message')
            expect(existsSync(join(out, workspace, 'web', 'index.html'))).to.equal(true);
          // An invalid PORT stops the kit at configuration, after every static import resolved:
          // a package missing from the file set would fail earlier with ERR_MODULE_NOT_FOUND.
          const started = await runCommand(process.execPath, [`${workspace}/dist/src/main.js`], {
            cwd: out,
            env: { PORT: 'not-a-port', NODE_PATH: '' },
            timeoutMs: 20_000,
          });
          expect(started.code).to.equal(1);
          expect(started.stderr + started.stdout).to.match(
            /^config: .*PORT: expected an integer 0-65535, got "not-a-port"/m,
          );
          expect(started.stderr).to.not.contain('ERR_MODULE_NOT_FOUND');
        } finally {
          await removeTempDir(out);
        }
      });
    });
  }

  it('make images tags each image with the name the operator and the chart pull', async () => {
    const dryRun = await runCommand('make', ['--no-print-directory', '-n', 'images'], { cwd: root });
    expect(dryRun.code, dryRun.stderr).to.equal(0);
    // `make -n` prints the loop; expand it as the shell would for each image.
    const loop = /for image in ([\w ]+); do/.exec(dryRun.stdout);
    expect(loop, dryRun.stdout).to.not.equal(null);
    const images = loop![1]!.trim().split(/\s+/);
    expect(images).to.deep.equal(Object.keys(WORKSPACES));
    const tag = /-t (\S+)\/\$image:(\S+) \./.exec(dryRun.stdout);
    expect(tag, dryRun.stdout).to.not.equal(null);
    const [, repository, version] = tag!;

    const appVersion = /^appVersion:\s*'?([^'\s]+)'?/m.exec(
      read('charts/chatcluster-operator/Chart.yaml'),
    )![1];
    expect(version).to.equal(appVersion);
    const values = yaml.load(read('charts/chatcluster-operator/values.yaml')) as {
      image: { repository: string; tag: string };
    };
    expect(values.image.tag, 'the chart defaults its tag to appVersion').to.equal('');
    expect(`${repository}/operator`).to.equal(values.image.repository);
    // The default the API server fills in, from the CRD the operator generates (a test keeps the file fresh).
    interface Schema {
      default?: unknown;
      properties?: Record<string, Schema>;
    }
    const crd = yaml.load(read('crds/chatcluster.io_chatclusters.yaml')) as {
      spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
    };
    const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
    const defaultRepository = spec.properties!.image!.properties!.repository!.default as string;
    expect(repository, 'the ChatCluster default image repository').to.equal(defaultRepository);
    for (const file of ['examples/chatcluster-minimal.yaml', 'examples/kind/chatcluster.yaml']) {
      const cluster = yaml.load(read(file)) as { spec: { image: { version: string; repository?: string } } };
      expect(cluster.spec.image.version, file).to.equal(appVersion);
      expect(cluster.spec.image.repository ?? defaultRepository, file).to.equal(repository);
    }
    // The Dockerfile path the loop picks for each image.
    expect(dryRun.stdout).to.contain(
      'dockerfile=apps/$image/Dockerfile; [ $image = operator ] && dockerfile=operator/Dockerfile;',
    );
    for (const workspace of Object.values(WORKSPACES))
      expect(existsSync(join(root, dockerfilePath(workspace)))).to.equal(true);
  });

  it('keeps host build output and dependencies out of the build context', () => {
    const ignore = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    expect(ignore).to.include.members(['**/node_modules', '**/dist', '.git']);
  });

  it('the kind example runs the data stores at the addresses the example Secrets name', () => {
    const secrets = yaml.loadAll(read('examples/secrets-local.yaml')) as {
      metadata: { name: string };
      stringData: Record<string, string>;
    }[];
    const stores = yaml.loadAll(read('examples/kind/datastores.yaml')) as {
      kind: string;
      metadata: { name: string };
      spec: { ports?: { port: number }[] };
    }[];
    const services = new Map(
      stores
        .filter((d) => d.kind === 'Service')
        .map((s) => [s.metadata.name, s.spec.ports!.map((p) => p.port)]),
    );
    for (const name of ['chat-postgres', 'chat-mongodb', 'chat-redis']) {
      const url = new URL(secrets.find((s) => s.metadata.name === name)!.stringData.url!);
      expect(services.get(url.hostname), `${name} → ${url.host}`).to.include(Number(url.port));
    }
    const cluster = yaml.load(read('examples/kind/chatcluster.yaml')) as {
      spec: Record<string, Record<string, { secretRef: { name: string } }>>;
    };
    const referenced = [
      ...Object.values(cluster.spec.dataStores!),
      ...Object.values(cluster.spec.notification!),
    ].map((ref) => ref.secretRef.name);
    expect(secrets.map((s) => s.metadata.name)).to.include.members(referenced);
  });
});
