// The CLI's --role and --admin, as an admin types them (a real process on a store file, no service running).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runScript } from '../helpers/scripts.js';

describe('npm run invites -- create account --role', function () {
  this.timeout(30_000);
  let cwd: string;
  before(async () => { cwd = await mkdtemp(join(tmpdir(), 'invites-cli-')); });
  after(async () => { await rm(cwd, { recursive: true, force: true }); });
  const cli = (...args: string[]) => runScript('src/cli.ts', args, { cwd, vars: { XMPP_DOMAIN: 'example.org' } });

  it('gives the invite the roles named, in any spelling Prosody uses; --admin is --role admin', async () => {
    const member = await cli('create', 'account', '--role', 'prosody:member', '--role', 'guest');
    expect(member.code, member.stderr).to.equal(0);
    expect(member.stdout).to.match(/^Account invite, with the roles member, guest: it creates an account on example\.org/);
    const admin = await cli('create', 'account', '--admin', '--username', 'chief');
    expect(admin.stdout).to.match(/^Account invite for the username "chief", for a new administrator/);
    const stored = await readFile(join(cwd, 'data/invites.json'), 'utf8').catch(() => '')
      + await readFile(join(cwd, 'data/invites.json.journal'), 'utf8').catch(() => '');
    expect(stored).to.include('"roles":["member","guest"]').and.include('"roles":["admin"]');
  });

  it('refuses a role Prosody does not have, with the list', async () => {
    const r = await cli('create', 'account', '--role', 'root');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^"root" is not a role; the roles are admin, member, registered, guest\.\nUsage:/);
  });
});
