import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess, createTempDir, removeTempDir } from '../src/index.js';
import { expectProcessGone, waitFor } from './support.js';

const managedProcessModule = fileURLToPath(new URL('../src/managed-process.js', import.meta.url));

/** Starts `script` under sh as a managed process, ready once the script has created `ready`. */
function startShell(
  dir: string,
  script: string,
  extra: { stopGraceMs?: number } = {},
): Promise<ManagedProcess> {
  return ManagedProcess.start({
    name: 'fake-component',
    command: '/bin/sh',
    args: ['-c', script],
    cwd: dir,
    logFile: join(dir, 'fake.log'),
    ready: () => access(join(dir, 'ready')).then(() => true),
    ...extra,
  });
}

async function readPid(file: string): Promise<number> {
  return waitFor(`a pid in ${file}`, async () => {
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    return pid > 0 ? pid : undefined;
  });
}

/**
 * Runs a separate Node process that starts `sleep` through ManagedProcess, prints its pid, then
 * runs `ending` (crash, signal...). Resolves to the sleep's pid once that process has ended.
 */
async function orphanCheck(ending: string, signalFromOutside?: NodeJS.Signals): Promise<number> {
  const dir = createTempDir('orphan-check');
  const script = `
    const { ManagedProcess } = await import(${JSON.stringify(managedProcessModule)});
    const sleeper = await ManagedProcess.start({
      name: 'sleeper', command: 'sleep', args: ['300'], logFile: ${JSON.stringify(join(dir, 'sleep.log'))},
      ready: () => Promise.resolve(true),
    });
    console.log(sleeper.pid);
    ${ending}
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const pid = await waitFor('the sleeper pid', () =>
    /^\d+$/m.test(stdout) ? Number(stdout.trim()) : undefined,
  );
  if (signalFromOutside) child.kill(signalFromOutside);
  await exited;
  await removeTempDir(dir);
  return pid;
}

describe('harness: managed process', function () {
  let dir: string;

  beforeEach(() => {
    dir = createTempDir('managed-process-test');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('captures output in the log file and kills grandchildren on stop', async () => {
    const managed = await startShell(
      dir,
      `echo started; sleep 300 & echo $! > grandchild.pid; touch ready; wait`,
    );
    const grandchild = await readPid(join(dir, 'grandchild.pid'));
    expect(managed.isRunning).to.equal(true);
    await managed.stop();
    expect(managed.isRunning).to.equal(false);
    await expectProcessGone(managed.pid, 'the shell');
    await expectProcessGone(grandchild, 'the grandchild sleep');
    expect(managed.logTail()).to.equal('started');
  });

  it('kills a process that ignores SIGTERM once the grace period is over', async () => {
    const managed = await startShell(dir, `trap '' TERM; touch ready; while true; do sleep 1; done`, {
      stopGraceMs: 300,
    });
    const started = Date.now();
    await managed.stop();
    expect(Date.now() - started).to.be.within(300, 3_000);
    await expectProcessGone(managed.pid, 'the stubborn shell');
  });

  it('fails naming the component, with its log, when it exits before it is ready', async () => {
    const failure = await ManagedProcess.start({
      name: 'fake-component',
      command: '/bin/sh',
      args: ['-c', 'echo the-last-words >&2; exit 3'],
      logFile: join(dir, 'fake.log'),
      ready: () => Promise.resolve(false),
    }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).to.match(/^harness: fake-component exited \(code 3\) before it was ready/);
    expect(failure?.message).to.include('the-last-words');
  });

  it('fails and leaves nothing running when readiness never comes', async () => {
    const failure = await ManagedProcess.start({
      name: 'fake-component',
      command: '/bin/sh',
      args: ['-c', 'echo $$ > shell.pid; echo still-booting; exec sleep 300'],
      cwd: dir,
      logFile: join(dir, 'fake.log'),
      ready: () => Promise.resolve(false),
      readyTimeoutMs: 500,
    }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).to.match(/^harness: fake-component was not ready within 0.5 s/);
    expect(failure?.message).to.include('still-booting');
    await expectProcessGone(await readPid(join(dir, 'shell.pid')), 'the never-ready process');
  });

  it('fails clearly when the executable cannot be spawned', async () => {
    const failure = await ManagedProcess.start({
      name: 'ghost',
      command: join(dir, 'no-such-binary'),
      args: [],
      logFile: join(dir, 'ghost.log'),
      ready: () => Promise.resolve(true),
    }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).to.match(/^harness: could not start ghost .*ENOENT/);
  });

  it('kills children when the test process crashes', async () => {
    const pid = await orphanCheck(`throw new Error('simulated crash');`);
    await expectProcessGone(pid, 'the crashed process child');
  });

  it('kills children when the test process is interrupted', async () => {
    const pid = await orphanCheck(`await new Promise((resolve) => setTimeout(resolve, 60_000));`, 'SIGINT');
    await expectProcessGone(pid, 'the interrupted process child');
  });
});
