// Per-invite options and groups in every text front end, against a real server: chat
// (a real client messaging the bot), ad-hoc (XEP-0050 at the bot's full JID) and the
// CLI (over the running service's control socket), with the same names everywhere:
// --uses, --expires-after, --note, --group. And the N-uses race: an invite for 3
// accounts, 13 simultaneous in-band registrations, exactly 3 accounts.
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { NODE } from '../../src/adhoc/commands.js';
import { askService, controlSocketPath } from '../../src/control/socket.js';
import { NEVER } from '../../src/invites/types.js';
import { freePorts } from '../../src/server/free-port.js';
import { command, fieldsOf, formOf, invitationOf, notesOf, rowsOf, runCommand, tokenOf } from '../helpers/adhoc.js';
import { eventually } from '../helpers/eventually.js';
import { registerWith } from '../helpers/ibr.js';
import { runScript } from '../helpers/scripts.js';
import { BOT, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import type { User } from '../helpers/xmpp-user.js';

const DAY_MS = 86_400_000;
const tokenIn = (reply: string) => /preauth=([A-Za-z0-9_-]+)/.exec(reply)?.[1];
const idIn = (reply: string) => /Id ([a-z0-9]{8}):/.exec(reply)?.[1];

describe(`per-invite options and groups in chat, ad-hoc and the CLI (real ${serverName()})`, function () {
  this.timeout(90_000);
  let stack: Stack;
  let base: string;
  let boss: User;
  let alice: User;

  before(async () => {
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    stack = await startStack({ PUBLIC_URL: base, HTTP_PORT: String(port), BOT_RATE_LIMIT: '1000/1', ADHOC_RATE_LIMIT: '1000/1', MAX_INVITES_PER_USER: '10' });
    [boss, alice] = await Promise.all([stack.user(`boss@${DOMAIN}`), stack.user(`alice@${DOMAIN}`)]);
  });
  after(() => stack?.stop());

  /** The bot's reply to an invite command, and the QR code message after it (PUBLIC_URL is set). */
  const askInvite = async (u: User, text: string) => {
    const reply = await u.ask(BOT, text);
    if (tokenIn(reply)) await u.next(BOT, 5000);
    return reply;
  };
  const invite = async (id: string) => (await stack.app.store.get(id))!;
  const cli = (...args: string[]) => runScript('src/cli.ts', args, { cwd: stack.dir, vars: { XMPP_DOMAIN: DOMAIN, STORE_FILE: stack.env.STORE_FILE! } });
  const expiresInDays = (at: string) => (Date.parse(at) - Date.now()) / DAY_MS;

  describe('chat', () => {
    it('an invite with --uses 3 --expires-after 2d --note "x y" shows 3 uses left, about 2 days, and the note in "invites all"', async () => {
      const reply = await askInvite(boss, 'invite account --uses 3 --expires-after 2d --note "x y"');
      expect(reply).to.match(/^Account invite: it creates an account on localhost\. Valid until .* UTC \(in 2 days\), usable 3 times\. Your note \(never shown to the invited person\): "x y"\.\nxmpp:localhost\?register;preauth=/);
      const id = idIn(reply)!;
      const stored = await invite(id);
      expect(stored).to.deep.include({ maxUses: 3, note: 'x y' });
      expect(expiresInDays(stored.expiresAt)).to.be.within(1.99, 2.01);
      const listed = await boss.ask(BOT, 'invites all');
      const line = listed.split('\n').find((l) => l.startsWith(id));
      expect(line, listed).to.match(/^[a-z0-9]{8} {2}account {2}expires .* UTC \(in 2 days\) {2}3 of 3 uses left {2}\(boss@localhost\) {2}note "x y"$/);
    });

    it('a user\'s lifetime is capped at INVITE_EXPIRY, and the reply says so; curly quotes keep a note whole; never and --group are refused', async () => {
      const reply = await askInvite(alice, 'invite --expires-after 4w --note “for Bob from work”');
      expect(reply).to.match(/, single use\. Your note \(never shown to the invited person\): "for Bob from work"\. Invites from user accounts are valid for at most 1 week, so this one is valid for 1 week\.\n/);
      expect(expiresInDays((await invite(idIn(reply)!)).expiresAt)).to.be.within(6.99, 7.01);
      expect(await alice.ask(BOT, 'invite --expires-after never')).to.equal('Only administrators can create invites that never expire.');
      expect(await alice.ask(BOT, 'invite --group friends')).to.equal('Only administrators can manage groups or invite into them.');
      expect(await alice.ask(BOT, 'invites')).to.include('  note "for Bob from work"');
    });

    it('an admin\'s invite that never expires says so in chat, in the list and on its web page; the note is never on the page', async () => {
      const reply = await askInvite(boss, 'invite account --expires-after never --note "secret-note-Berlin"');
      expect(reply).to.match(/^Account invite: it creates an account on localhost\. It never expires, single use\./);
      const id = idIn(reply)!;
      expect((await invite(id)).expiresAt).to.equal(NEVER);
      expect((await boss.ask(BOT, 'invites')).split('\n').find((l) => l.startsWith(id))).to.match(/^[a-z0-9]{8} {2}account {2}never expires {2}single use {2}note "secret-note-Berlin"$/);
      const page = await (await fetch(`${base}/invite/${tokenIn(reply)}`)).text();
      expect(page).to.include('This invite never expires.').and.not.include('9999').and.not.include('secret-note-Berlin');
      const register = await (await fetch(`${base}/invite/${tokenIn(reply)}/register`)).text();
      expect(register).to.not.include('secret-note-Berlin');
    });

    it('groups: create (quoted name, with a room), add, list, invite into one, remove, delete', async () => {
      // Asked before alice is in a group: the group's follow-ups may send her messages, which ask() would take for the reply.
      expect(await alice.ask(BOT, 'groups')).to.equal('Only administrators can use "groups". Type "help" to see the commands you can use.');
      expect(await boss.ask(BOT, 'group create "Berlin meetup" meetup@conference.localhost')).to.match(/^Group "Berlin meetup" created, with the room meetup@conference\.localhost\. /);
      expect(await boss.ask(BOT, 'group add “Berlin meetup” alice')).to.equal(`alice@${DOMAIN} is now in the group "Berlin meetup".`);
      expect(await boss.ask(BOT, 'group add "Berlin meetup" nobody-here')).to.equal(`There is no account nobody-here@${DOMAIN}.`);
      expect(await boss.ask(BOT, 'groups')).to.equal(`1 group:\n"Berlin meetup"  room meetup@conference.localhost  1 member: alice@${DOMAIN}`);
      const reply = await askInvite(boss, 'invite account --group "berlin meetup"');
      expect(reply).to.include('The new account joins the group Berlin meetup.');
      await registerWith(stack.server.service, DOMAIN, { token: tokenIn(reply)!, username: 'grouped', password: PASSWORD });
      await boss.next(BOT, 5000); // "grouped joined with your invite"
      await eventually(async () => (await stack.app.groups.get('Berlin meetup'))?.members, (m) => m?.includes(`grouped@${DOMAIN}`) === true, 10_000);
      expect(await boss.ask(BOT, 'groups')).to.equal(`1 group:\n"Berlin meetup"  room meetup@conference.localhost  2 members: alice@${DOMAIN}, grouped@${DOMAIN}`);
      expect(await boss.ask(BOT, 'group remove "Berlin meetup" alice')).to.equal(`alice@${DOMAIN} is no longer in the group "Berlin meetup".`);
      expect(await boss.ask(BOT, 'group create spare')).to.match(/^Group "spare" created\./);
      expect(await boss.ask(BOT, 'group delete spare')).to.equal('Group "spare" deleted.');
      expect((await stack.app.groups.list()).map((g) => [g.name, g.members])).to.deep.equal([['Berlin meetup', [`grouped@${DOMAIN}`]]]);
    });
  });

  describe('ad-hoc', () => {
    const at = () => `${BOT}/${stack.app.config.botResource}`;
    const run = (u: User, el: Element) => runCommand(u, at(), el);

    it('the account form takes lifetime, uses, note and groups; the list shows uses left and the note', async () => {
      const first = await run(boss, command(NODE.createAccount, { action: 'execute' }));
      const f = fieldsOf(formOf(first));
      expect(f['expires-after']).to.deep.include({ type: 'list-single', options: ['1h', '1d', '1w', '4w', 'never'] });
      expect(f.groups).to.deep.include({ type: 'list-multi' });
      expect(f.groups!.options).to.include('Berlin meetup');
      const done = await run(boss, command(NODE.createAccount, { sessionid: first.attrs.sessionid, action: 'complete' },
        { 'expires-after': '2d', uses: '3', note: 'x y', groups: 'Berlin meetup' }));
      const { uri } = invitationOf(done);
      const made = (await stack.app.service.lookup(tokenOf(uri))).invite!;
      expect(made).to.deep.include({ maxUses: 3, note: 'x y', groups: ['Berlin meetup'] });
      expect(expiresInDays(made.expiresAt)).to.be.within(1.99, 2.01);
      expect(notesOf(done)[0]!.text).to.match(/^Account invite [a-z0-9]{8}, valid until .* \(in 2 days\)\./);

      const list = await run(boss, command(NODE.list, { action: 'execute' }));
      const listed = await run(boss, command(NODE.list, { sessionid: list.attrs.sessionid, action: 'complete' }, { all: '1' }));
      const row = rowsOf(formOf(listed)).find((r) => r.id === made.id);
      expect(row).to.deep.include({ uses: '0/3', 'uses-left': '3', note: 'x y', groups: 'Berlin meetup' });
      expect(formOf(listed)!.getChildText('instructions')).to.include(`${made.id}  account  expires `).and.include('(in 2 days)  3 of 3 uses left  (group Berlin meetup, boss@localhost)  note "x y"');
    });

    it('a user\'s contact invite with options: lifetime up to INVITE_EXPIRY, and a note', async () => {
      const first = await run(alice, command(NODE.inviteOptions, { action: 'execute' }));
      expect(fieldsOf(formOf(first))['expires-after']!.options).to.deep.equal(['1h', '1d', '1w']);
      const done = await run(alice, command(NODE.inviteOptions, { sessionid: first.attrs.sessionid, action: 'complete' }, { 'expires-after': '1d', note: 'for the Berlin meetup' }));
      const { uri } = invitationOf(done);
      const made = (await stack.app.service.lookup(tokenOf(uri))).invite!;
      expect(made).to.deep.include({ note: 'for the Berlin meetup', createdBy: `alice@${DOMAIN}` });
      expect(expiresInDays(made.expiresAt)).to.be.within(0.99, 1.01);
    });

    it('groups: create, add a member, list, remove', async () => {
      const c = await run(boss, command(NODE.groupCreate, { action: 'execute' }));
      const made = await run(boss, command(NODE.groupCreate, { sessionid: c.attrs.sessionid, action: 'complete' }, { name: 'Ad hoc' }));
      expect(notesOf(made)[0]!.text).to.equal('Group "Ad hoc" created.');
      const a = await run(boss, command(NODE.groupAdd, { action: 'execute' }));
      const added = await run(boss, command(NODE.groupAdd, { sessionid: a.attrs.sessionid, action: 'complete' }, { group: 'Ad hoc', jid: `alice@${DOMAIN}` }));
      expect(notesOf(added)[0]!.text).to.equal(`alice@${DOMAIN} is now in the group "Ad hoc".`);
      const listed = await run(boss, command(NODE.groups, { action: 'execute' }));
      expect(rowsOf(formOf(listed)).find((r) => r.name === 'Ad hoc')).to.deep.equal({ name: 'Ad hoc', room: '', count: '1', members: `alice@${DOMAIN}` });
      const r = await run(boss, command(NODE.groupRemove, { action: 'execute' }));
      const removed = await run(boss, command(NODE.groupRemove, { sessionid: r.attrs.sessionid, action: 'complete' }, { group: 'Ad hoc', jid: 'alice' }));
      expect(notesOf(removed)[0]!.text).to.equal(`alice@${DOMAIN} is no longer in the group "Ad hoc".`);
      // Not for users: the command is not listed and refused.
      const refused = await run(alice, command(NODE.groupCreate, { action: 'execute' }));
      expect(refused.name).to.equal('error');
    });
  });

  describe('CLI (over the running service\'s control socket)', () => {
    it('create account --uses 3 --expires-after 2d --note "x y", then list: 3 uses left, about 2 days, the note', async () => {
      const made = await cli('create', 'account', '--uses', '3', '--expires-after', '2d', '--note', 'x y', '--group', 'Berlin meetup');
      expect(made.code, made.stderr).to.equal(0);
      const id = idIn(made.stdout)!;
      expect(made.stdout).to.match(/\(in 2 days\), usable 3 times\. The new account joins the group Berlin meetup\. Your note \(never shown to the invited person\): "x y"\./);
      const list = await cli('list');
      expect(list.stdout.split('\n').find((l) => l.startsWith(id))).to.match(/^[a-z0-9]{8} {2}account {2}expires .* UTC \(in 2 days\) {2}3 of 3 uses left {2}\(group Berlin meetup, cli\) {2}note "x y"$/);
      expect((await cli('create', 'reset', 'alice', '--expires-after', '1h', '--note', 'lost phone')).stdout).to.match(/\(in 1 hour\), single use\. Your note/);
    });

    it('groups and API keys through the service; the key alone on the last line', async () => {
      expect((await cli('group', 'create', 'From CLI')).code).to.equal(0);
      expect((await cli('group', 'add', 'From CLI', 'alice')).stdout).to.equal(`alice@${DOMAIN} is now in the group "From CLI".\n`);
      expect((await cli('groups')).stdout).to.include(`"From CLI"  no room  1 member: alice@${DOMAIN}\n`);
      expect((await cli('group', 'remove', 'From CLI', 'alice')).code).to.equal(0);
      expect((await cli('group', 'delete', 'From CLI')).stdout).to.equal('Group "From CLI" deleted.\n');
      const key = await cli('api-key', 'create', 'website', '--scope', 'invites:read');
      expect(key.code, key.stderr).to.equal(0);
      const last = key.stdout.trimEnd().split('\n').at(-1)!;
      expect(last).to.match(/^[a-z2-9]{8}\.[A-Za-z0-9_-]{24}$/);
      expect(await stack.app.apiKeys.verify(last)).to.deep.include({ name: 'website', scopes: ['invites:read'] });
      const list = await cli('api-key', 'list');
      expect(list.stdout).to.match(/^[a-z0-9]{8} {2}website {2}invites:read {2}created \S+ {2}active\n$/).and.not.include(last.split('.')[1]!);
      expect((await cli('api-key', 'revoke', last.split('.')[0]!)).code).to.equal(0);
      expect(await stack.app.apiKeys.verify(last)).to.equal(undefined);
    });

    it('the import operation counts what it imported and skipped', async () => {
      const socket = controlSocketPath(stack.env.STORE_FILE!);
      expect(await askService(socket, { op: 'import', invites: [], skipped: [{ reason: 'expired', count: 2 }] }))
        .to.deep.equal({ ok: true, text: 'Imported 0 invites; skipped 2 (2 expired).', imported: { imported: 0, skipped: 0, unknownGroups: [] } });
    });
  });

  describe('the N-uses race', () => {
    it('an account invite with --uses 3 and 13 simultaneous in-band registrations makes exactly 3 accounts', async () => {
      const reply = await askInvite(boss, 'invite account --uses 3 --note "race"');
      const token = tokenIn(reply)!;
      const names = Array.from({ length: 13 }, (_, i) => `triple${i}`);
      const results = await Promise.allSettled(names.map((username) => registerWith(stack.server.service, DOMAIN, { token, username, password: PASSWORD })));
      const won = names.filter((_, i) => results[i]!.status === 'fulfilled');
      expect(won, results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'ok')).join('; ')).to.have.length(3);
      const exist = await Promise.all(names.map((n) => stack.server.userExists(n)));
      expect(names.filter((_, i) => exist[i])).to.deep.equal(won);
      const inv = (await stack.app.service.lookup(token)).invite!;
      expect(inv.uses.map((u) => u.jid).sort()).to.deep.equal(won.map((n) => `${n}@${DOMAIN}`).sort());
      expect(stack.app.service.stateOf(inv)).to.equal('used');
      // The three "joined" notices, then the list: it no longer shows the invite (no use left).
      const notices = [];
      for (let i = 0; i < 3; i++) notices.push((await boss.next(BOT, 5000))?.getChildText('body'));
      expect(notices.every((n) => n?.includes(`joined with your invite ${inv.id}`)), notices.join('\n')).to.equal(true);
      expect(await boss.ask(BOT, 'invites')).to.not.include(inv.id);
    });
  });
});
