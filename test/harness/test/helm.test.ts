import { expect } from 'chai';
import { helm, pinnedVersion } from '../src/index.js';

describe('harness: helm', function () {
  it('runs the pinned Helm', async () => {
    const result = await helm(['version', '--short']);
    expect(result.code, result.stderr).to.equal(0);
    // `go install` builds report major.minor only (v3.22), not the patch release.
    const majorMinor = pinnedVersion('HELM_VERSION').split('.').slice(0, 2).join('.');
    expect(result.stdout.trim()).to.match(new RegExp(`^${majorMinor.replace(/\./g, '\\.')}(\\.|\\+|$)`));
  });

  it('returns a failing exit code instead of throwing', async () => {
    const result = await helm(['no-such-command']);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.include('unknown command');
  });
});
