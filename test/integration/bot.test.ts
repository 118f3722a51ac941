// The bot's text commands, end to end: a real Prosody, the service, and
// xmpp.js users messaging the bot.
import { expect } from 'chai';
import xml from '@xmpp/xml';
import { BOT, DOMAIN, type Stack, startStack } from '../helpers/stack.js';
import type { User } from '../helpers/xmpp-user.js';

const URI_LINE = /^xmpp:[^\s]+$/m;

function uriIn(reply: string): string {
  const m = reply.match(URI_LINE);
  if (!m) throw new Error(`no URI line in: ${reply}`);
  return m[0];
}

function tokenOf(uri: string): string {
  return /preauth=([A-Za-z0-9_-]+)/.exec(uri)![1]!;
}

describe('bot text commands (real Prosody)', function () {
  this.timeout(60_000);
  let stack: Stack;
  let boss: User; // admin (ADMINS)
  let alice: User; // ordinary local user
  let eve: User; // user of another domain on the same server

  before(async () => {
    stack = await startStack(
      { MAX_INVITES_PER_USER: '3', BOT_RATE_LIMIT: '1000/1' },
      { prosody: { extraHosts: [{ domain: 'other.localhost' }] } },
    );
    [boss, alice, eve] = await Promise.all([stack.user(`boss@${DOMAIN}`), stack.user(`alice@${DOMAIN}`), stack.user('eve@other.localhost')]);
  });
  after(() => stack?.stop());

  const pendingCount = () => stack.app.service.listPending({ system: 'cli' }, { all: true, limit: 1000 });
  const count = async () => { const r = await pendingCount(); return r.ok ? r.invites.length : -1; };

  describe('as an ordinary user', () => {
    it('"invite" gives a contact invite: URI alone on its line, kind and expiry in words', async () => {
      const reply = await alice.ask(BOT, 'invite');
      const uri = uriIn(reply);
      expect(uri).to.match(new RegExp(`^xmpp:alice@${DOMAIN}\\?roster;preauth=[A-Za-z0-9_-]{24}$`));
      expect(reply).to.match(/Contact invite/);
      expect(reply).to.match(/Valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 7 days\)/);
      expect((await stack.app.service.lookup(tokenOf(uri))).state).to.equal('valid');
    });

    it('"invite contact" gives a contact-only invite', async () => {
      const uri = uriIn(await alice.ask(BOT, '  INVITE   Contact '));
      expect(uri).to.match(/\?roster;preauth=[^;]+$/);
    });

    it('refuses the admin commands with a sentence and creates nothing', async () => {
      const before = await count();
      for (const cmd of ['invite account', 'invite account bob', 'invite admin', 'invite reset bob']) {
        const reply = await alice.ask(BOT, cmd);
        expect(reply, cmd).to.match(/^Only administrators can use "invite (account|admin|reset)"\. Type "help"/);
      }
      expect(await alice.ask(BOT, 'invites all')).to.match(/^Only administrators can list all invites/);
      expect(await count()).to.equal(before);
    });

    it('"help" lists only the commands this user may use', async () => {
      const reply = await alice.ask(BOT, 'help');
      expect(reply).to.include('invite contact').and.include('revoke ID').and.include('invites [all | next]');
      expect(reply).to.not.include('invite account').and.not.include('invite admin').and.not.include('invite reset');
    });

    it('"invites" lists own pending invites only; "revoke" cancels one', async () => {
      const listed = await alice.ask(BOT, 'invites');
      expect(listed).to.match(/^2 pending invites:/);
      expect(listed).to.not.include('boss@');
      const id = listed.split('\n')[1]!.split(' ')[0]!;
      expect(await alice.ask(BOT, `revoke ${id}`)).to.equal(`Invite ${id} is revoked: it can no longer be used.`);
      expect(await alice.ask(BOT, 'invites')).to.match(/^1 pending invite:/);
      expect(await alice.ask(BOT, `revoke ${id}`)).to.match(/cannot be revoked: it was already revoked/);
    });

    it('holds a non-admin to MAX_INVITES_PER_USER pending invites', async () => {
      expect(uriIn(await alice.ask(BOT, 'invite'))).to.match(/^xmpp:/); // 2 pending
      expect(uriIn(await alice.ask(BOT, 'invite'))).to.match(/^xmpp:/); // 3 pending
      const before = await count();
      const refused = await alice.ask(BOT, 'invite');
      expect(refused).to.equal('You already have 3 unused invites, the most allowed; revoke one first. Type "invites" to see them.'.replace(' Type "invites" to see them.', ''));
      expect(await count()).to.equal(before);
    });

    it('cannot revoke an invite of someone else, and learns nothing about it', async () => {
      const created = await boss.ask(BOT, 'invite account');
      const id = /Id ([a-z0-9]{8})/.exec(created)![1]!;
      expect(await alice.ask(BOT, `revoke ${id}`)).to.equal(`You have no invite with the id "${id}". Type "invites" to see their ids.`);
      expect((await stack.app.service.lookup(tokenOf(uriIn(created)))).state).to.equal('valid');
    });
  });

  describe('as an admin', () => {
    it('"invite" gives an account+contact invite (ibr=y)', async () => {
      const uri = uriIn(await boss.ask(BOT, 'invite'));
      expect(uri).to.match(new RegExp(`^xmpp:boss@${DOMAIN}\\?roster;preauth=[A-Za-z0-9_-]{24};ibr=y$`));
    });

    it('"invite account" and "invite account USERNAME"', async () => {
      const open = await boss.ask(BOT, 'invite account');
      expect(uriIn(open)).to.match(new RegExp(`^xmpp:${DOMAIN}\\?register;preauth=[A-Za-z0-9_-]{24}$`));
      expect(open).to.match(/^Account invite: it creates an account on localhost\. Valid until .* \(in 7 days\), single use\./);
      const bound = await boss.ask(BOT, 'Invite Account Bob');
      expect(uriIn(bound)).to.match(new RegExp(`^xmpp:bob@${DOMAIN}\\?register;preauth=`));
      expect(bound).to.include('for the username "bob"');
      expect(await boss.ask(BOT, 'invite account no/slash')).to.equal('"no/slash" is not a valid username.');
    });

    it('"invite admin" carries the admin role', async () => {
      const reply = await boss.ask(BOT, 'invite admin');
      expect(reply).to.include('for a new administrator');
      const found = await stack.app.service.lookup(tokenOf(uriIn(reply)));
      expect(found.invite?.roles).to.deep.equal(['admin']);
    });

    it('"invite reset USERNAME" gives a one-day reset invite', async () => {
      const reply = await boss.ask(BOT, 'invite reset alice');
      expect(uriIn(reply)).to.match(new RegExp(`^xmpp:alice@${DOMAIN}\\?register;preauth=`));
      expect(reply).to.match(/Password reset invite for alice@localhost.*\(in 1 day\)/);
      expect(await boss.ask(BOT, 'invite reset')).to.match(/^Usage: invite reset USERNAME/);
    });

    it('"invites all" lists everyone\'s, "revoke" works on anyone\'s', async () => {
      const all = await boss.ask(BOT, 'invites all');
      expect(all).to.include('alice@localhost').and.include('boss@localhost');
      const aliceLine = all.split('\n').find((l) => l.includes('(alice@localhost)'))!;
      const id = aliceLine.split(' ')[0]!;
      expect(await boss.ask(BOT, `revoke ${id}`)).to.include('is revoked');
    });

    it('"help" includes the admin commands', async () => {
      const reply = await boss.ask(BOT, 'help');
      for (const c of ['invite account [USERNAME]', 'invite admin', 'invite reset USERNAME', 'invites [all | next]']) expect(reply).to.include(c);
    });
  });

  describe('others and garbage', () => {
    it('users of other domains can create nothing', async () => {
      expect(await eve.ask(BOT, 'invite')).to.equal(`Only accounts on ${DOMAIN} can create invites here. Type "help" for what you can do.`);
      expect(await eve.ask(BOT, 'help')).to.equal('Commands you can use:\nhelp  this list');
    });

    it('answers unknown, malformed, huge and odd input with one clear sentence', async () => {
      const cases: [string, RegExp][] = [
        ['frobnicate', /^I don't know the command "frobnicate"\. Type "help"/],
        ['invite account a b c', /^Usage: invite account \[USERNAME\]/],
        ['invite foo', /^Usage: invite \(/],
        ['revoke', /^Usage: revoke ID/],
        ['x'.repeat(10_000), /^That message is too long to be a command/],
        ['\u200b\u202e invite \t\u00a0\u0085', /preauth=/], // invisible, bidi, tab, no-break space, NEL (all legal in XML)
        ['💣'.repeat(300), /^I don't know the command "(💣){39}…"\. Type "help"/u], // cut on whole characters
        ['<script>alert(1)</script> & "quotes"', /^I don't know the command "<script>alert\(1\)<\/script> & \\?"quo…"|^I don't know the command/],
        ['revoke ../../etc/passwd', /^You have no invite with the id "\.\.\/\.\.\/etc\/passwd"/],
      ];
      for (const [input, expected] of cases) expect(await boss.ask(BOT, input), input.slice(0, 30)).to.match(expected);
      expect(await boss.ask(BOT, 'help')).to.match(/^Commands you can use/);
    });

    it('ignores groupchat, errors, headlines, empty bodies and carbons', async () => {
      const to = BOT;
      await alice.send(xml('message', { to, type: 'groupchat' }, xml('body', {}, 'help')));
      await alice.send(xml('message', { to, type: 'error' }, xml('body', {}, 'help')));
      await alice.send(xml('message', { to, type: 'headline' }, xml('body', {}, 'help')));
      await alice.send(xml('message', { to, type: 'chat' }, xml('body', {}, '   ')));
      await alice.send(xml('message', { to, type: 'chat' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
      await alice.send(xml('message', { to, type: 'chat' },
        xml('received', { xmlns: 'urn:xmpp:carbons:2' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' },
          xml('message', { from: `boss@${DOMAIN}`, to, type: 'chat' }, xml('body', {}, 'help'))))));
      // The first reply must be to this one: nothing above was answered.
      expect(await alice.ask(BOT, 'invites')).to.match(/pending invite/);
      expect(await alice.next(BOT, 500)).to.equal(undefined);
    });

    it('answers a "normal" message with a normal message', async () => {
      await alice.send(xml('message', { to: BOT }, xml('body', {}, 'help')));
      const reply = await alice.next(BOT);
      expect(reply?.attrs.type).to.equal('normal');
      expect(reply?.getChildText('body')).to.match(/^Commands you can use/);
    });
  });

  describe('restart', () => {
    it('keeps invites and roles across a restart of the service', async () => {
      const created = await boss.ask(BOT, 'invite account');
      const token = tokenOf(uriIn(created));
      const before = (await boss.ask(BOT, 'invites')).split('\n')[0];
      await stack.app.stop();
      await stack.startApp();
      expect((await stack.app.service.lookup(token)).state).to.equal('valid');
      // The bot comes back online and answers the same.
      let after = '';
      for (let i = 0; i < 20 && !after; i++) after = await boss.ask(BOT, 'invites', 1000).catch(() => '');
      expect(after.split('\n')[0]).to.equal(before);
    });

    it('reconnects by itself after the server restarts', async () => {
      await stack.prosody.restart();
      const again = await stack.user(`alice@${DOMAIN}`);
      let reply = '';
      for (let i = 0; i < 20 && !reply; i++) reply = await again.ask(BOT, 'help', 1000).catch(() => '');
      expect(reply).to.match(/^Commands you can use/);
    });
  });
});

describe('bot rate limit (real Prosody)', function () {
  this.timeout(60_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({ BOT_RATE_LIMIT: '5/60' });
  });
  after(() => stack?.stop());

  it('answers a burst up to the limit, warns once, then stays silent; others are unaffected', async () => {
    const spammer = await stack.user(`spammer@${DOMAIN}`);
    const other = await stack.user(`calm@${DOMAIN}`);
    for (let i = 0; i < 12; i++) await spammer.send(xml('message', { to: BOT, type: 'chat' }, xml('body', {}, 'help')));
    const replies: string[] = [];
    for (let r = await spammer.next(BOT, 2000); r; r = await spammer.next(BOT, 1000)) replies.push(r.getChildText('body') ?? '');
    expect(replies).to.have.length(6);
    expect(replies.slice(0, 5).every((t) => t.startsWith('Commands you can use'))).to.equal(true);
    expect(replies[5]).to.equal('You are sending commands too fast; wait 60 seconds and try again.');
    expect(await other.ask(BOT, 'help')).to.match(/^Commands you can use/);
  });
});
