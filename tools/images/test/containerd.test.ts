// The local cluster's images in a real containerd: a private one (own root, state and socket, no CRI)
// gets everything buildAndImportImages builds, under the names the cluster uses; the app image runs
// this machine's Node from the base rootfs, with the Dockerfile's user, working directory and command;
// the pause image holds until it is told to stop; and a second build of unchanged sources imports
// nothing. containerd not starting is a failure, never a skip: the local cluster needs it.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ManagedProcess,
  createTempDir,
  eventually,
  locateBinary,
  removeTempDir,
  runCommand,
} from '@chatcluster/harness';
import { buildAndImportImages } from '../src/build.js';
import type { BuiltImages } from '../src/build.js';

describe('local cluster images in containerd', function () {
  this.timeout(600_000);
  let dir: string;
  let containerd: ManagedProcess | undefined;
  let socket: string;
  let built: BuiltImages;
  const containers: string[] = [];
  const ctr = (args: string[], timeoutMs = 60_000) =>
    runCommand(locateBinary('ctr'), ['--address', socket, '--namespace', 'k8s.io', ...args], { timeoutMs });

  before(async () => {
    dir = createTempDir('containerd');
    socket = join(dir, 'containerd.sock');
    writeFileSync(
      join(dir, 'config.toml'),
      [
        'version = 2',
        `root = "${dir}/root"`,
        `state = "${dir}/state"`,
        // Only images and ctr run are needed here; the cluster's own config enables the CRI.
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]',
        `  address = "${socket}"`,
        '[ttrpc]',
        `  address = "${socket}.ttrpc"`,
        // Otherwise /opt/containerd on the host.
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = "${dir}/opt"`,
      ].join('\n'),
    );
    containerd = await ManagedProcess.start({
      name: 'containerd',
      command: locateBinary('containerd'),
      args: ['--config', join(dir, 'config.toml')],
      logFile: join(dir, 'containerd.log'),
      ready: async () => (await ctr(['version'], 5_000)).code === 0,
    });
    const lines: string[] = [];
    built = await buildAndImportImages({ containerdSocket: socket, log: (line) => lines.push(line) });
    console.log(lines.map((l) => `      ${l}`).join('\n'));
  });

  after(async () => {
    for (const id of containers) {
      // Left only if a test failed midway: without its task and container the state can be removed.
      await ctr(['tasks', 'delete', '--force', id]);
      await ctr(['containers', 'delete', id]);
    }
    await containerd?.stop();
    if (dir) await removeTempDir(dir);
  });

  it('names every image as the cluster expects, and containerd lists them', async () => {
    expect(built.tag).to.match(/^0\.1\.0-[0-9a-f]{12}$/);
    expect(built.images).to.deep.include({
      pause: 'registry.k8s.io/pause:3.10',
      coredns: 'chatcluster.local/coredns:v1.13.2',
      auth: `chatcluster.local/auth:${built.tag}`,
      message: `chatcluster.local/message:${built.tag}`,
      notification: `chatcluster.local/notification:${built.tag}`,
      operator: `chatcluster.local/operator:${built.tag}`,
    });
    const listed = await ctr(['images', 'ls', '-q']);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout.split('\n')).to.include.members(Object.values(built.images));
  });

  /** `ctr run --rm` of `image`, as a container removed afterwards even if ctr is killed. */
  async function run(image: string, args: string[], env: string[] = []) {
    const id = `images-test-${containers.length}`;
    containers.push(id);
    return ctr(['run', '--rm', ...env.flatMap((e) => ['--env', e]), image, id, ...args]);
  }

  it("runs this machine's Node from the base rootfs", async () => {
    const result = await run(built.images.message, ['/usr/local/bin/node', '--version']);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout.trim()).to.equal(process.version);
  });

  it("starts the message service with the Dockerfile's user, working directory and command", async () => {
    const who = await run(built.images.message, [
      'node',
      '-e',
      'console.log(process.getuid(), process.getgid(), process.cwd(), process.env.NODE_ENV)',
    ]);
    expect(who.stdout.trim(), who.stderr).to.equal('65532 65532 /app production');
    // No arguments: the image's entrypoint (node) and CMD (main.js). An invalid PORT stops the kit at
    // configuration, after every import of main.js resolved inside the image.
    const started = await run(built.images.message, [], ['PORT=not-a-port']);
    expect(started.code).to.equal(1);
    expect(started.stderr + started.stdout).to.match(
      /^config: .*PORT: expected an integer 0-65535, got "not-a-port"/m,
    );
  });

  it('the pause image holds until SIGTERM', async () => {
    const id = `images-test-${containers.length}`;
    containers.push(id);
    const started = await ctr(['run', '--detach', built.images.pause, id]);
    expect(started.code, started.stderr).to.equal(0);
    const status = async () =>
      new RegExp(`^${id}\\s+\\d+\\s+(\\w+)$`, 'm').exec((await ctr(['tasks', 'ls'])).stdout)?.[1];
    expect(await status()).to.equal('RUNNING');
    const killed = await ctr(['tasks', 'kill', '--signal', 'SIGTERM', id]);
    expect(killed.code, killed.stderr).to.equal(0);
    await eventually('pause to stop on SIGTERM', async () => (await status()) === 'STOPPED', 10_000);
  });

  it('unchanged sources: the same tag, and nothing imported again', async () => {
    const lines: string[] = [];
    const again = await buildAndImportImages({ containerdSocket: socket, log: (line) => lines.push(line) });
    expect(again).to.deep.equal(built);
    expect(lines.filter((l) => l.startsWith('imported'))).to.deep.equal([]);
    const present = lines.filter((l) => l.endsWith(': already in containerd')).join('\n');
    for (const reference of Object.values(built.images)) expect(present).to.contain(reference);
  });
});
