import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ensurePrivateDir } from '../../src/private-files.js';

describe('ensurePrivateDir', () => {
  let base: string;
  beforeEach(() => { base = mkdtempSync(join(tmpdir(), 'invites-private-')); });
  afterEach(() => rmSync(base, { recursive: true, force: true }));
  const mode = (d: string) => statSync(d).mode & 0o7777;

  it('makes a new folder 0700, and closes an open one of ours', () => {
    ensurePrivateDir(join(base, 'new'));
    expect(mode(join(base, 'new'))).to.equal(0o700);
    chmodSync(base, 0o755);
    ensurePrivateDir(base);
    expect(mode(base)).to.equal(0o700);
  });

  it('leaves a sticky shared folder (as /tmp) open to its other users', () => {
    chmodSync(base, 0o1777);
    ensurePrivateDir(base);
    expect(mode(base)).to.equal(0o1777);
  });
});
