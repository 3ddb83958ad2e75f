import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createMetrics, FeatureFlags, type FlagValues, type Metrics } from '../../src/index.js';
import { memoryLog, type LogLine } from '../support/memory-log.js';
import { waitFor } from '../support/wait.js';

describe('FeatureFlags', function () {
  this.timeout(10_000);

  let dir: string;
  let file: string;
  let metrics: Metrics;
  let lines: LogLine[];
  let logger: ReturnType<typeof memoryLog>['logger'];
  const opened: FeatureFlags[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kit-flags-'));
    file = join(dir, 'flags.json');
    metrics = createMetrics('chat_flagtest');
    ({ logger, lines } = memoryLog('flags'));
  });

  afterEach(async () => {
    for (const flags of opened.splice(0)) flags.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Replaces the file in one step, as an editor or kubectl would. */
  async function writeFlags(content: FlagValues | string, path = file): Promise<void> {
    const temporary = `${path}.tmp`;
    await writeFile(temporary, typeof content === 'string' ? content : JSON.stringify(content));
    await rename(temporary, path);
  }

  async function load(options: { pollIntervalMs?: number; watch?: boolean } = {}): Promise<FeatureFlags> {
    const flags = await FeatureFlags.load({ file, logger, metrics, ...options });
    opened.push(flags);
    return flags;
  }

  const gaugeValues = async () =>
    Object.fromEntries<number>(
      (await metrics.registry.getSingleMetric('chat_flagtest_feature_flag')!.get()).values.map((v) => [
        String(v.labels.flag),
        v.value,
      ]),
    );

  it('reads boolean and percentage flags and exports them as a gauge', async () => {
    await writeFlags({ reactions: true, typingIndicators: false, newComposer: 25 });
    const flags = await load();
    expect(flags.isEnabled('reactions')).to.be.true;
    expect(flags.isEnabled('typingIndicators')).to.be.false;
    expect(flags.isEnabled('neverHeardOf')).to.be.false;
    expect(flags.values).to.deep.equal({ reactions: true, typingIndicators: false, newComposer: 25 });
    expect(await gaugeValues()).to.deep.equal({ reactions: 1, typingIndicators: 0, newComposer: 0.25 });
  });

  it('picks up a changed file without a restart, by polling', async () => {
    await writeFlags({ reactions: false });
    const flags = await load({ watch: false, pollIntervalMs: 20 });
    const changes: FlagValues[] = [];
    flags.onChange((values) => changes.push(values));

    await writeFlags({ reactions: true, threads: 100 });
    await waitFor(() => flags.isEnabled('reactions'), 5000, 'the poll to notice the change');
    expect(flags.isEnabled('threads', { key: 'u1' })).to.be.true;
    expect(changes).to.deep.equal([{ reactions: true, threads: 100 }]);
    expect(await gaugeValues()).to.deep.equal({ reactions: 1, threads: 1 });
  });

  it('keeps the last good flags when the file turns invalid, and logs why', async () => {
    await writeFlags({ reactions: true });
    const flags = await load({ watch: false, pollIntervalMs: 20 });

    await writeFlags('{"reactions": tru');
    await waitFor(
      () => lines.some((l) => l.msg === 'invalid feature flags; keeping the last good flags'),
      5000,
    );
    expect(flags.isEnabled('reactions')).to.be.true;
    expect(lines.find((l) => l.level === 'error')!.error).to.match(/^not JSON/);

    await writeFlags({ reactions: 'yes' } as unknown as FlagValues);
    await waitFor(() => lines.filter((l) => l.level === 'error').length === 2, 5000, 'the schema error');
    expect(lines.filter((l) => l.level === 'error')[1]!.error).to.match(/^reactions:/);
    expect(flags.isEnabled('reactions')).to.be.true;

    await writeFlags({ reactions: false });
    await waitFor(() => !flags.isEnabled('reactions'), 5000, 'recovery with a valid file');
    // The same bad content polled again is not reported again.
    expect(lines.filter((l) => l.level === 'error')).to.have.length(2);
  });

  it('notices a ConfigMap-style ..data symlink swap through the directory watch', async () => {
    // kubelet's layout: flags.json -> ..data/flags.json, ..data -> ..<timestamp>; an update swaps ..data.
    await mkdir(join(dir, '..2024_01'));
    await writeFile(join(dir, '..2024_01', 'flags.json'), JSON.stringify({ threads: false }));
    await symlink('..2024_01', join(dir, '..data'));
    await symlink(join('..data', 'flags.json'), file);
    const flags = await load({ pollIntervalMs: 3_600_000 }); // only the watch can notice in time
    expect(flags.isEnabled('threads')).to.be.false;

    await mkdir(join(dir, '..2024_02'));
    await writeFile(join(dir, '..2024_02', 'flags.json'), JSON.stringify({ threads: true }));
    await symlink('..2024_02', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));

    await waitFor(() => flags.isEnabled('threads'), 5000, 'the watch to notice the swap');
  });

  it('starts with no flags when the file is missing, and picks it up once it appears', async () => {
    const flags = await load({ watch: false, pollIntervalMs: 20 });
    expect(flags.values).to.deep.equal({});
    expect(lines.find((l) => l.level === 'error')!.msg).to.equal(
      'cannot read feature flags; keeping the last good flags',
    );
    await writeFlags({ reactions: true });
    await waitFor(() => flags.isEnabled('reactions'), 5000, 'the file to be read');
  });

  it('stops telling a listener after it unsubscribes, and a throwing listener does not stop reloads', async () => {
    await writeFlags({ a: false });
    const flags = await load({ watch: false, pollIntervalMs: 20 });
    let calls = 0;
    const unsubscribe = flags.onChange(() => calls++);
    flags.onChange(() => {
      throw new Error('listener bug');
    });
    await writeFlags({ a: true });
    await waitFor(() => calls === 1, 5000);
    unsubscribe();
    await writeFlags({ a: false });
    await waitFor(() => !flags.isEnabled('a'), 5000);
    expect(calls).to.equal(1);
  });

  describe('percentage rollouts', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

    it('answer the same for a key every time and in every instance', () => {
      const one = FeatureFlags.fixed({ newComposer: 30 });
      const other = FeatureFlags.fixed({ newComposer: 30 });
      for (const key of keys.slice(0, 200)) {
        const answer = one.isEnabled('newComposer', { key });
        expect(one.isEnabled('newComposer', { key })).to.equal(answer);
        expect(other.isEnabled('newComposer', { key })).to.equal(answer);
      }
    });

    it('enable about the given share of keys, and keep keys enabled as the share grows', () => {
      const at = (percent: number) => {
        const flags = FeatureFlags.fixed({ newComposer: percent });
        return new Set(keys.filter((key) => flags.isEnabled('newComposer', { key })));
      };
      const ten = at(10);
      const thirty = at(30);
      expect(thirty.size / keys.length).to.be.within(0.25, 0.35);
      expect(ten.size / keys.length).to.be.within(0.07, 0.13);
      expect([...ten].every((key) => thirty.has(key))).to.be.true;
      expect(at(0).size).to.equal(0);
      expect(at(100).size).to.equal(keys.length);
    });

    it('is off for a partial rollout when no key is given', () => {
      expect(FeatureFlags.fixed({ newComposer: 99 }).isEnabled('newComposer')).to.be.false;
    });
  });
});
