// The figures of a scenario: printed as one JSON line (`{"chaos": <scenario>, …}`), appended to
// $CHAOS_REPORT_FILE when set, and checked: no acknowledged message lost or duplicated.
import { appendFileSync } from 'node:fs';
import { expect } from 'chai';
import type { LoadFigures } from './load.js';

export function report(
  scenario: string,
  figures: LoadFigures | undefined,
  extra: Record<string, unknown> = {},
): void {
  const line = JSON.stringify({ chaos: scenario, ...figures, ...extra });
  console.log(line);
  const file = process.env.CHAOS_REPORT_FILE;
  if (file) appendFileSync(file, `${line}\n`);
}

/** Every acknowledged message reached every member exactly once, and every send was acknowledged. */
export function expectNothingLost(figures: LoadFigures): void {
  expect(figures.lost, 'acknowledged messages lost').to.equal(0);
  expect(figures.duplicated, 'messages duplicated').to.equal(0);
  expect(figures.failed, 'sends given up').to.equal(0);
  expect(figures.unacknowledged, 'sends never acknowledged').to.equal(0);
  expect(figures.acknowledged).to.equal(figures.sent);
  expect(figures.delivered).to.equal(figures.acknowledged);
  expect(figures.sent, 'the load ran').to.be.greaterThan(0);
}
