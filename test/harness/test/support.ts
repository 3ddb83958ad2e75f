// Assertions and waits the harness self-tests share.
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

interface ProcStat {
  state: string;
  pgrp: number;
}

/** State and process group from /proc/<pid>/stat, or undefined when there is no such process. */
function procStat(pid: number | string): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may contain spaces; the fields after it are fixed.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/** True while the process runs. A zombie (dead, waiting to be reaped by init) does not count. */
function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Live members of process group `pgid`. */
function liveGroupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      const stat = procStat(entry);
      return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
    })
    .map(Number);
}

/** Fails unless the process (and, for a group leader, its whole group) is gone within a moment. */
export async function expectProcessGone(pid: number, what = `process ${pid}`): Promise<void> {
  const gone = (): boolean => !isAlive(pid) && liveGroupMembers(pid).length === 0;
  for (let i = 0; i < 40 && !gone(); i++) await delay(50);
  expect(isAlive(pid), `${what} (pid ${pid}) is still running`).to.equal(false);
  expect(liveGroupMembers(pid), `processes of ${what}'s group still running`).to.deep.equal([]);
  if (procStat(pid) === undefined) {
    // Fully reaped: the assertion the brief asks for holds literally too.
    expect(() => process.kill(pid, 0)).to.throw();
  }
}

/** Polls `check` until it returns a value that is not undefined, or fails with `what`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await delay(200);
  }
}

/** How long `action` takes, in milliseconds. */
export async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}
