// The bot's text commands, end to end: a real Prosody, the service, and
// xmpp.js users messaging the bot.
import { expect } from 'chai';
import xml from '@xmpp/xml';
import { eventually } from '../helpers/eventually.js';
import { BOT, DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
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

describe(`bot text commands (real ${serverName()})`, function () {
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
      expect(reply).to.match(/Valid until \d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d UTC \(in 7 days\)/);
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
      expect(await boss.ask(BOT, 'invite reset')).to.equal('"invite reset" needs the username of the account, then options if you like: invite reset USERNAME [--expires-after D] [--note "TEXT"]. For example "invite reset alice".');
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
        ['frobnicate', /^I did not understand "frobnicate"\. Type "help"/],
        ['invite account a b c', /^"invite account" takes at most one username/],
        ['invite foo', /^"invite" takes only options: invite \[--expires-after D\] \[--note "TEXT"\]/],
        ['revoke', /^"revoke" needs the id of one invite/],
        ['x'.repeat(10_000), /^That message is too long to be a command/],
        ['\u200b\u202e invite \t\u00a0\u0085', /preauth=/], // invisible, bidi, tab, no-break space, NEL (all legal in XML)
        ['x💣'.repeat(300), /^I did not understand "(x💣){19}x…"\. Type "help"/u], // cut on whole characters
        ['💣'.repeat(300), /^Hello! I am the invite bot of localhost: .*\n\nCommands you can use:\n/], // emoji only: a greeting
        ['<script>alert(1)</script> & "quotes"', /^I did not understand "<script>alert\(1\)<\/script> & "quotes""\. Type "help"/],
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
      // ejabberd writes the default type as none at all (RFC 6121: no type is normal); never chat.
      expect(reply?.attrs.type ?? 'normal').to.equal('normal');
      expect(reply?.getChildText('body')).to.match(/^Commands you can use/);
    });
  });

  describe('languages (xml:lang of the message)', () => {
    /** Send `body` with xml:lang `lang`; the bot's reply (skipping its QR attachments and notices). */
    const askIn = async (u: User, lang: string, body: string) => {
      await u.send(xml('message', { to: BOT, type: 'chat', 'xml:lang': lang }, xml('body', {}, body)));
      for (;;) {
        const el = await u.next(BOT);
        if (!el) throw new Error(`no reply to "${body}"`);
        if (!el.getChild('x', 'jabber:x:oob')) return { body: el.getChildText('body') ?? '', lang: el.attrs['xml:lang'] as string | undefined };
      }
    };

    it('answers a German message in German: invite, help with its aliases, a wrong argument, a refusal', async () => {
      const created = await askIn(boss, 'de', 'einladen');
      expect(created.body).to.match(/^Kontakteinladung: Sie erstellt bei Bedarf ein Konto auf localhost und macht dessen Inhaber zu deinem Kontakt\. Gültig bis \d{1,2}\. \S+ \d{4} um \d\d:\d\d UTC \(in 7 Tagen\), einmal verwendbar\.\nxmpp:boss@localhost\?roster;preauth=/);
      const help = await askIn(alice, 'de-DE', 'hilfe');
      expect(help.body).to.match(/^Befehle, die du verwenden kannst:\ninvite {2,}ein Einladungslink: /);
      expect(help.body).to.include('Statt „invite“ kannst du auch „einladen“ schreiben, statt „help“ auch „hilfe“.');
      expect((await askIn(alice, 'de', 'invite bitte')).body).to.equal('Nach „invite“ kommen nur Optionen: invite [--expires-after D] [--note "TEXT"], etwa „invite --expires-after 1d“. Schick einfach „invite“, um eine Einladung zu bekommen, die jemanden zu deinem Kontakt macht.');
      expect((await askIn(alice, 'de', 'invite admin')).body).to.equal('Nur Administratoren können „invite admin“ verwenden. Schreib „help“, um die Befehle zu sehen, die du verwenden kannst.');
    });

    it('answers French and Spanish in theirs, and a language we lack in DEFAULT_LANGUAGE (English)', async () => {
      expect((await askIn(alice, 'fr', 'aide ?')).body).to.match(/^Commandes que vous pouvez utiliser :\n/);
      expect((await askIn(alice, 'es', '¡Hola!')).body).to.match(/^¡Hola! Soy el bot de invitaciones de localhost: .*\n\nÓrdenes que puedes usar:\n/);
      expect((await askIn(eve, 'es', 'invite')).body).to.equal('Solo las cuentas de localhost pueden crear invitaciones aquí. Escribe «help» para ver lo que puedes hacer.');
      expect((await askIn(alice, 'pt-BR', 'help')).body).to.match(/^Commands you can use:\n/);
    });
  });

  describe('greetings and first messages', () => {
    it('answers a greeting, "help?" and "Invite." as a person means them', async () => {
      const greeted = await alice.ask(BOT, 'hi!');
      expect(greeted).to.match(/^Hello! I am the invite bot of localhost: I make invite links for the people you want to bring here\.\n\nCommands you can use:\ninvite {2,}/);
      expect(await alice.ask(BOT, 'help?')).to.match(/^Commands you can use:\n/);
      expect(uriIn(await alice.ask(BOT, 'Invite.'))).to.match(/^xmpp:alice@localhost\?roster;preauth=/);
      expect(await alice.ask(BOT, 'invite please')).to.equal('"invite" takes only options: invite [--expires-after D] [--note "TEXT"], such as "invite --expires-after 1d". Send just "invite" to get an invite that makes someone your contact.');
    });

    it('gives a new sender\'s unknown first message the help text, a later one a short sentence', async () => {
      const newcomer = await stack.user(`newcomer@${DOMAIN}`);
      expect(await newcomer.ask(BOT, 'what can you do')).to.match(/^Hello! I am the invite bot of localhost: .*\n\nCommands you can use:\ninvite {2,}/);
      expect(await newcomer.ask(BOT, 'what can you do')).to.equal('I did not understand "what can you do". Type "help" to see the commands you can use.');
    });
  });

  describe('no dead ends at creation (the server is asked through the bridge)', () => {
    it('refuses an account invite for a username that exists, and a reset of an account that does not', async () => {
      const before = await count();
      expect(await boss.ask(BOT, 'invite account alice')).to.equal(`The account alice@${DOMAIN} already exists; choose another username, or create a password reset invite with "invite reset alice".`);
      expect(await boss.ask(BOT, 'invite account ALICE --role member')).to.match(/^The account alice@localhost already exists/);
      expect(await boss.ask(BOT, 'invite reset nobody')).to.equal(`There is no account nobody@${DOMAIN} to reset.`);
      await boss.send(xml('message', { to: BOT, type: 'chat', 'xml:lang': 'fr' }, xml('body', {}, 'invite reset nobody')));
      expect((await boss.next(BOT))?.getChildText('body')).to.equal(`Il n’existe pas de compte nobody@${DOMAIN} à réinitialiser.`);
      expect(await count()).to.equal(before);
      // What can be made still is.
      expect(uriIn(await boss.ask(BOT, 'invite account nobody'))).to.match(/^xmpp:nobody@localhost\?register;preauth=/);
      expect(uriIn(await boss.ask(BOT, 'invite reset alice'))).to.match(/^xmpp:alice@localhost\?register;preauth=/);
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
      await stack.server.restart();
      // Back online by itself (xmpp.js retries every second); under load a restart takes a while.
      const status = await eventually(async () => stack.app.bot.xmpp.status, (s) => s === 'online', 45_000);
      expect(status).to.equal('online');
      const again = await stack.user(`alice@${DOMAIN}`);
      let reply = '';
      for (let i = 0; i < 10 && !reply; i++) reply = await again.ask(BOT, 'help', 3000).catch(() => '');
      expect(reply).to.match(/^Commands you can use/);
    });
  });
});

describe(`bot rate limit (real ${serverName()})`, function () {
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
