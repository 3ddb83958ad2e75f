import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { AppError, withTimeout } from '../../src/index.js';

/** A sleep that stops when the signal aborts, recording that it was stopped. */
function cancellableSleep(ms: number, signal: AbortSignal, stopped: { value: boolean }): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve('finished'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      stopped.value = true;
      reject(new Error('sleep aborted'));
    });
  });
}

describe('withTimeout', () => {
  it('returns the result when the work finishes in time', async () => {
    expect(await withTimeout(60_000, () => Promise.resolve('done'), { operation: 'quick' })).to.equal('done');
  });

  it('leaves no timer behind that would keep the process alive', async function () {
    this.timeout(10_000);
    const kit = new URL('../../src/index.js', import.meta.url).href;
    const main = `
      import { withTimeout } from ${JSON.stringify(kit)};
      console.log(await withTimeout(60000, async () => 'done', { operation: 'quick' }));
    `;
    // A leaked 60 s timer would keep the child alive until the 5 s kill.
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', main], {
      timeout: 5000,
    });
    expect(stdout).to.equal('done\n');
  });

  it('rejects with TIMEOUT and aborts the work at the deadline', async () => {
    const stopped = { value: false };
    const started = Date.now();
    const error = await withTimeout(30, (signal) => cancellableSleep(10_000, signal, stopped), {
      operation: 'membership lookup',
    }).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(AppError);
    expect(error).to.include({
      code: 'TIMEOUT',
      status: 504,
      message: 'membership lookup timed out after 30 ms',
    });
    expect(stopped.value, 'the work saw the abort').to.be.true;
    expect(Date.now() - started).to.be.below(2000);
  });

  it('does not wait for work that ignores the signal', async () => {
    let release!: () => void;
    const ignoring = new Promise<void>((resolve) => (release = resolve));
    const error = await withTimeout(20, () => ignoring, { operation: 'stubborn' }).catch(
      (err: unknown) => err,
    );
    expect(error).to.include({ code: 'TIMEOUT' });
    release();
  });

  it('passes the work’s own failure through', async () => {
    const error = await withTimeout(1000, () => Promise.reject(new Error('refused')), {
      operation: 'x',
    }).catch((err: unknown) => err);
    expect((error as Error).message).to.equal('refused');
  });

  it('aborts with the parent’s reason when the parent signal aborts first', async () => {
    const parent = new AbortController();
    const stopped = { value: false };
    const pending = withTimeout(10_000, (signal) => cancellableSleep(10_000, signal, stopped), {
      operation: 'x',
      parentSignal: parent.signal,
    });
    parent.abort(new Error('client went away'));
    const error = await pending.catch((err: unknown) => err);
    expect((error as Error).message).to.equal('client went away');
    expect(stopped.value).to.be.true;
    const already = await withTimeout(10, () => Promise.resolve('never'), {
      operation: 'x',
      parentSignal: parent.signal,
    }).catch((err: unknown) => err);
    expect((already as Error).message).to.equal('client went away');
  });

  describe('with a real fetch', () => {
    let server: Server;
    let url: string;
    let serverSawAbort: Promise<void>;

    before(async () => {
      let onAbort!: () => void;
      serverSawAbort = new Promise((resolve) => (onAbort = resolve));
      // Never answers; notices when the client gives up on the request.
      server = createServer((req) => req.socket.once('close', onAbort));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
    });

    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('cancels the HTTP request at the deadline', async () => {
      const error = await withTimeout(50, (signal) => fetch(url, { signal }), {
        operation: 'slow upstream',
      }).catch((err: unknown) => err);
      expect(error).to.include({ code: 'TIMEOUT' });
      await serverSawAbort;
    });
  });
});
