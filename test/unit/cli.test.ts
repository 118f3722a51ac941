// The CLI as an admin types it (a real process on a store file, no service running): --role and
// --admin, the per-invite options, groups and API keys; and how each command line is read.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { importParts, parseCli, UsageError } from '../../src/cli.js';
import type { Invite } from '../../src/invites/types.js';
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

describe('npm run invites -- per-invite options, groups, API keys', function () {
  this.timeout(60_000);
  let cwd: string;
  before(async () => { cwd = await mkdtemp(join(tmpdir(), 'invites-cli-')); });
  after(async () => { await rm(cwd, { recursive: true, force: true }); });
  const cli = (...args: string[]) => runScript('src/cli.ts', args, { cwd, vars: { XMPP_DOMAIN: 'example.org' } });

  it('parses every verb and option into one operation', () => {
    expect(parseCli(['create', 'account', '--uses', '3', '--expires-after', '2d', '--group', 'a b', '--group', 'c', '--note', 'x y'])).to.deep.equal({
      op: 'create', request: { kind: 'account', username: undefined, roles: [], maxUses: 3, expiresAfter: 172800, note: 'x y', groups: ['a b', 'c'] },
    });
    expect(parseCli(['create', 'account', '--admin', '--expires-after', 'never'])).to.deep.include({ request: { kind: 'account', username: undefined, roles: ['admin'], maxUses: undefined, expiresAfter: 'never' } });
    expect(parseCli(['create', 'reset', 'alice', '--expires-after=1h', '--note=lost phone'])).to.deep.equal({ op: 'create', request: { kind: 'reset', username: 'alice', expiresAfter: 3600, note: 'lost phone' } });
    expect(parseCli(['group', 'create', 'Berlin meetup', 'room@conference.example.org'])).to.deep.equal({ op: 'group-create', name: 'Berlin meetup', room: 'room@conference.example.org' });
    expect(parseCli(['group', 'create', 'x'])).to.deep.equal({ op: 'group-create', name: 'x' });
    expect(parseCli(['group', 'delete', 'x'])).to.deep.equal({ op: 'group-delete', name: 'x' });
    expect(parseCli(['group', 'add', 'x', 'alice'])).to.deep.equal({ op: 'group-add', name: 'x', jid: 'alice' });
    expect(parseCli(['group', 'remove', 'x', 'alice'])).to.deep.equal({ op: 'group-remove', name: 'x', jid: 'alice' });
    expect(parseCli(['groups'])).to.deep.equal({ op: 'groups' });
    expect(parseCli(['api-key', 'create', 'website', '--scope', 'groups:read', '--scope', 'invites:write'])).to.deep.equal({ op: 'api-key-create', name: 'website', scopes: ['groups:read', 'invites:write'] });
    expect(parseCli(['api-key', 'create', 'website'])).to.deep.equal({ op: 'api-key-create', name: 'website', scopes: ['invites:write'] });
    expect(parseCli(['api-key', 'list'])).to.deep.equal({ op: 'api-key-list' });
    expect(parseCli(['api-key', 'revoke', 'abcd2345'])).to.deep.equal({ op: 'api-key-revoke', id: 'abcd2345' });
    expect(parseCli(['import-prosody', '/var/lib/prosody', 'example.org'])).to.deep.equal({ op: 'import-prosody', dataDir: '/var/lib/prosody', host: 'example.org' });
    for (const bad of [
      ['create', 'account', '--expires-after', 'soon'], ['create', 'account', '--uses', 'many'], ['create', 'account', '--scope', 'groups:read'],
      ['create', 'reset', 'alice', '--uses', '2'], ['create', 'reset', 'alice', '--group', 'x'], ['group', 'add', 'x'], ['group', 'create'],
      ['groups', 'x'], ['api-key', 'create', 'w', '--scope', 'root'], ['api-key', 'create'], ['list', '--note', 'x'], ['import-prosody', '/x'],
    ]) expect(() => parseCli(bad), bad.join(' ')).to.throw(UsageError);
  });

  it('makes an invite with --uses, --expires-after, --group and --note, and lists its uses left, lifetime and note', async () => {
    expect((await cli('group', 'create', 'Berlin meetup', 'meetup@conference.example.org')).stdout)
      .to.equal('Group "Berlin meetup" created, with the room meetup@conference.example.org. Add members with "npm run invites -- group add "Berlin meetup" JID", or invite new people into it with "--group "Berlin meetup"".\n');
    const made = await cli('create', 'account', '--uses', '3', '--expires-after', '2d', '--group', 'berlin meetup', '--note', 'x y');
    expect(made.code, made.stderr).to.equal(0);
    expect(made.stdout).to.match(/^Account invite: it creates an account on example\.org\. Valid until .* UTC \(in 2 days\), usable 3 times\. The new account joins the group Berlin meetup\. Your note \(never shown to the invited person\): "x y"\.\nxmpp:example\.org\?register;preauth=/);
    const never = await cli('create', 'reset', 'alice', '--expires-after', 'never', '--note', 'lost phone');
    expect(never.stdout).to.match(/^Password reset invite for alice@example\.org: it sets a new password\. It never expires, single use\. Your note/);
    const list = await cli('list');
    expect(list.stdout).to.match(/^[a-z0-9]{8} {2}account {2}expires .* UTC \(in 2 days\) {2}3 of 3 uses left {2}\(group Berlin meetup, cli\) {2}note "x y"$/m);
    expect(list.stdout).to.match(/^[a-z0-9]{8} {2}password reset {2}never expires {2}single use {2}\(user alice, cli\) {2}note "lost phone"$/m);
    const bad = await cli('create', 'account', '--expires-after', '2x');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/^--expires-after takes a lifetime such as 1h, 2d or 4w \(at most ten years\), or never\nUsage:/);
    expect(bad.stderr).to.include('npm run invites -- api-key create NAME [--scope invites:read|invites:write|invites:admin|groups:read|groups:write]...');
    const long = await cli('create', 'account', '--note', 'n'.repeat(201));
    expect([long.code, long.stderr]).to.deep.equal([1, 'A note can be at most 200 characters long.\n']);
  });

  it('manages groups', async () => {
    expect((await cli('group', 'create', 'friends')).code).to.equal(0);
    expect((await cli('group', 'add', 'friends', 'alice')).stdout).to.equal('alice@example.org is now in the group "friends".\n');
    expect((await cli('group', 'add', 'friends', 'bob@example.org')).stdout).to.equal('bob@example.org is now in the group "friends".\n');
    const dup = await cli('group', 'add', 'friends', 'bob');
    expect([dup.code, dup.stderr]).to.deep.equal([1, 'bob@example.org is already in the group "friends".\n']);
    expect((await cli('group', 'remove', 'friends', 'alice')).stdout).to.equal('alice@example.org is no longer in the group "friends".\n');
    expect((await cli('groups')).stdout).to.equal('"Berlin meetup"  room meetup@conference.example.org  no members\nfriends  no room  1 member: bob@example.org\n');
    expect((await cli('group', 'delete', 'friends')).stdout).to.equal('Group "friends" deleted.\n');
    expect((await cli('group', 'delete', 'friends')).code).to.equal(1);
  });

  it('api-key create says what the key is and prints the key alone on the last line; list never shows it; revoke ends it', async () => {
    const made = await cli('api-key', 'create', 'website', '--scope', 'groups:read', '--scope', 'invites:write');
    expect(made.code, made.stderr).to.equal(0);
    const lines = made.stdout.trimEnd().split('\n');
    expect(lines).to.have.length(2);
    const id = /^API key ([a-z0-9]{8}) "website" created, with the scopes groups:read, invites:write\. It is shown only this once/.exec(lines[0]!)?.[1];
    expect(id, lines[0]).to.be.a('string');
    const key = lines.at(-1)!;
    expect(key).to.match(new RegExp(`^${id}\\.[A-Za-z0-9_-]{24}$`));
    const list = await cli('api-key', 'list');
    expect(list.stdout).to.match(new RegExp(`^${id}  website  groups:read,invites:write  created \\S+Z  active\\n$`));
    expect(list.stdout).to.not.include(key.split('.')[1]!);
    expect((await cli('api-key', 'create', 'website')).stderr).to.match(/^A key named "website" exists already/);
    expect((await cli('api-key', 'revoke', id!)).stdout).to.equal(`API key ${id} "website" revoked: it no longer works.\n`);
    expect((await cli('api-key', 'list')).stdout).to.match(/  revoked \S+Z\n$/);
    expect((await cli('api-key', 'revoke', id!)).code).to.equal(1);
  });

  it('sends an import in parts that each stay well under the control socket\'s 64 KiB', () => {
    const invite = (i: number): Invite => ({ id: `id${i}`, tokenHash: 'h'.repeat(43), kind: 'account', createdBy: 'prosody-import', roles: [], maxUses: 1, uses: [], note: 'n'.repeat(150), createdAt: '2026-11-21T12:00:00.000Z', expiresAt: '2026-11-28T12:00:00.000Z' });
    const all = Array.from({ length: 1000 }, (_, i) => invite(i));
    const parts = importParts(all);
    expect(parts.length).to.be.greaterThan(1);
    expect(parts.flat()).to.deep.equal(all);
    for (const p of parts) expect(JSON.stringify({ op: 'import', invites: p, skipped: [] }).length).to.be.below(60 * 1024);
    expect(importParts([])).to.deep.equal([[]]);
  });
});
