// Client conformance: for each app that opens invites, what it sends (read from
// its sources, see clients.ts) replayed against a real Prosody (the build
// PROSODY_VERSION names; npm test runs 0.12 and 13) with our bridge and component.
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { botInviteUri } from '../helpers/bot-reply.js';
import { eventually } from '../helpers/eventually.js';
import { iqError, openUnauthenticated } from '../helpers/raw-iq.js';
import { BOT, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { connectUser, rosterOf, type User } from '../helpers/xmpp-user.js';
import { CLIENTS, type ClientProfile, parseInviteUri, registerLike } from './clients.js';

const BOSS = `boss@${DOMAIN}`;

const rosterItem = async (user: User, jid: string) => (await rosterOf(user)).get(jid);

/** An invite URI from the bot, as the person would get it in chat. */
const uriFrom = (user: User, command: string) => botInviteUri(user, BOT, command);

/** What the client does on opening a register URI (see registerLike). */
const openRegisterInvite = (stack: Stack, client: ClientProfile, token: string, username: string) =>
  registerLike(client, stack.server.service, DOMAIN, token, username, PASSWORD);

/** Log in as the client would after registering; when it grants subscriptions back, it answers the inviter's request. */
async function login(stack: Stack, client: ClientProfile, jid: string, inviter: string): Promise<User> {
  const user = await connectUser(stack.server.service, jid, PASSWORD);
  stack.users.push(user);
  if (client.grantsBack) {
    user.xmpp.on('stanza', (el: Element) => {
      if (el.is('presence') && el.attrs.type === 'subscribe' && String(el.attrs.from).split('/')[0] === inviter) {
        void user.send(xml('presence', { to: inviter, type: 'subscribed' }));
      }
    });
  }
  return user;
}

const mutual = async (a: User, b: User) => {
  const [ab, ba] = await Promise.all([
    eventually(() => rosterItem(a, b.jid), (i) => i?.subscription === 'both'),
    eventually(() => rosterItem(b, a.jid), (i) => i?.subscription === 'both'),
  ]);
  expect(ab?.subscription, `${a.jid} → ${b.jid}`).to.equal('both');
  expect(ba?.subscription, `${b.jid} → ${a.jid}`).to.equal('both');
};

describe(`client conformance: invites opened as real apps open them (real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  let boss: User;
  before(async () => {
    stack = await startStack({ ALLOW_USER_INVITES: 'false' });
    boss = await stack.user(BOSS);
  });
  after(async () => { await stack?.stop(); });

  CLIENTS.forEach((client, n) => {
    const name = client.name.toLowerCase().replace(/[^a-z0-9]+/g, '');
    describe(client.name, () => {
      // Sources are listed in clients.ts; the first line says where the token IQ comes from.
      it(`finds the stream feature it checks (${client.tokenFeature}) before sending the token`, async () => {
        const stream = await openUnauthenticated(stack.server.service, DOMAIN);
        await stream.close();
        expect(stream.features.getChild('register', client.tokenFeature), client.sources[0]).to.exist;
        expect(stream.features.getChild('register', 'http://jabber.org/features/iq-register')).to.exist;
      });

      it('xmpp:HOST?register;preauth=T: the token IQ as it sends it, then its registration, make an account that logs in', async () => {
        const uri = parseInviteUri(await uriFrom(boss, 'invite account'));
        expect(uri).to.deep.include({ jid: DOMAIN, action: 'register' });
        const username = `${name}${n}a`;
        const { preauth, register } = await openRegisterInvite(stack, client, uri.params.preauth!, username);
        expect(preauth?.attrs.type, preauth?.toString()).to.equal('result');
        expect(register?.attrs.type, register?.toString()).to.equal('result');
        const user = await login(stack, client, `${username}@${DOMAIN}`, BOSS);
        expect(String(user.xmpp.jid)).to.match(new RegExp(`^${username}@${DOMAIN}/`));
        expect((await stack.app.service.lookup(uri.params.preauth!)).state).to.equal('used');
      });

      it('xmpp:USER@HOST?register;preauth=T (bound, and a password reset): only that account', async () => {
        const username = `${name}${n}b`;
        const uri = parseInviteUri(await uriFrom(boss, `invite account ${username}`));
        expect(uri).to.deep.include({ jid: `${username}@${DOMAIN}`, action: 'register' });
        // The app fixes the username to the URI's (MagicCreateActivity, MLRegisterViewController, RegisterAccountController).
        const made = await openRegisterInvite(stack, client, uri.params.preauth!, uri.jid.split('@')[0]!);
        expect(made.register?.attrs.type, made.register?.toString()).to.equal('result');
        const reset = parseInviteUri(await uriFrom(boss, `invite reset ${username}`));
        const again = await openRegisterInvite(stack, client, reset.params.preauth!, username);
        expect(again.register?.attrs.type, again.register?.toString()).to.equal('result');
        expect((await stack.app.service.lookup(reset.params.preauth!)).state).to.equal('used');
      });

      it(`a bogus, spent or contact-only token is answered item-not-found, which it takes as an invalid invite (${client.onPreauthError})`, async () => {
        const used = parseInviteUri(await uriFrom(boss, 'invite account')).params.preauth!;
        const first = await openRegisterInvite(stack, client, used, `${name}${n}c`);
        expect(first.register?.attrs.type).to.equal('result');
        const contact = await stack.app.service.create({ jid: BOSS }, { kind: 'contact' });
        if (!contact.ok) throw new Error(contact.message);
        const tokens = { bogus: 'bogusbogusbogusbogusbogu', spent: used, 'contact-only': contact.token };
        for (const [what, token] of Object.entries(tokens)) {
          const { preauth, register } = await openRegisterInvite(stack, client, token, `${name}${n}d`);
          // Conversations-family apps go on without the token on any other error; item-not-found stops every one of them.
          expect(iqError(preauth!), what).to.deep.include({ type: 'cancel', condition: 'item-not-found' });
          expect(register).to.equal(undefined);
        }
        expect(await stack.server.userExists(`${name}${n}d`)).to.equal(false);
      });

      it('xmpp:INVITER@HOST?roster;preauth=T;ibr=y: registers on the domain, then its subscription; they are mutual contacts', async () => {
        // An admin's plain "invite" also creates the account (ALLOW_USER_INVITES is false here).
        const admin = boss;
        const uri = parseInviteUri(await uriFrom(admin, 'invite'));
        expect(uri).to.deep.include({ jid: admin.jid, action: 'roster' });
        expect(uri.params.ibr).to.equal('y');
        const username = `${name}${n}e`;
        // With no account yet, the app registers on the inviter's domain with the token (UriHandlerActivity, handleXMPPURL:, AppDelegate).
        const { register } = await openRegisterInvite(stack, client, uri.params.preauth!, username);
        expect(register?.attrs.type, register?.toString()).to.equal('result');
        const user = await login(stack, client, `${username}@${DOMAIN}`, admin.jid);
        await client.subscribe(user, admin.jid, uri.params.preauth!);
        await mutual(admin, user);
      });

      const xep0379 = client.sendsContactToken
        ? 'its subscription is approved and returned (XEP-0379)'
        : 'it sends no token: a plain request the inviter decides, the token unspent';
      it(`xmpp:INVITER@HOST?roster;preauth=T from an existing account: ${xep0379}`, async () => {
        const alice = await stack.user(`${name}${n}alice@${DOMAIN}`);
        const uri = parseInviteUri(await uriFrom(alice, 'invite'));
        expect(uri).to.deep.include({ jid: alice.jid, action: 'roster' });
        expect(uri.params.ibr).to.equal(undefined);
        const carolJid = `${name}${n}carol@${DOMAIN}`;
        await stack.server.register(carolJid.split('@')[0]!, PASSWORD);
        const carol = await login(stack, client, carolJid, alice.jid);
        // Alice is never asked to decide: the request is approved for her.
        const requests: Element[] = [];
        alice.xmpp.on('stanza', (el: Element) => { if (el.is('presence') && el.attrs.type === 'subscribe') requests.push(el); });
        await client.subscribe(carol, alice.jid, uri.params.preauth!);
        if (!client.sendsContactToken) {
          await eventually(async () => requests.length, (count) => count > 0);
          expect(requests.map((r) => String(r.attrs.from).split('/')[0])).to.deep.equal([carolJid]);
          expect(requests[0]!.getChild('preauth', 'urn:xmpp:pars:0')).to.equal(undefined);
          expect((await stack.app.service.lookup(uri.params.preauth!)).state).to.equal('valid');
          return;
        }
        // Both ways: alice's approval, and her own request back (answered by the app, or by a pre-approval).
        await mutual(alice, carol);
        expect((await stack.app.service.lookup(uri.params.preauth!)).state).to.equal('used');
        expect(requests.map((r) => r.toString())).to.deep.equal([]);
      });
    });
  });
});
