// The bot as a contact, without a server: who gets a subscription back, the
// limits on presence answers, and the language a message is answered in.
import { expect } from 'chai';
import { capsVer } from '../../src/xmpp/caps.js';
import xml, { type Element } from '@xmpp/xml';
import { Bot, commandMessage, LANGUAGES_KEPT, messageLanguage } from '../../src/bot/bot.js';
import type { Dispatcher } from '../../src/bot/dispatch.js';
import { decidePresence, mayBeContact, PresenceAnswers, type PresenceDecision } from '../../src/bot/presence.js';
import { profileCard } from '../../src/bot/profile.js';
import { nickPublish, textMessage, vcardTemp } from '../../src/xmpp/stanzas.js';

const SELF = 'invitebot@example.org';
const POLICY = { domain: 'example.org', admins: ['root@elsewhere.net'] };
const NICK = 'Invite bot';

const presenceFrom = (from: string, type?: string) => xml('presence', { from, to: SELF, ...(type ? { type } : {}) });
const chat = (from: string, body: string, attrs: Record<string, string> = {}) =>
  xml('message', { from, to: SELF, type: 'chat', ...attrs }, xml('body', {}, body));

describe('bot as a contact: who may subscribe', () => {
  it('accounts of the domain and ADMINS may; others, components and look-alikes may not', () => {
    expect(mayBeContact('alice@example.org', POLICY)).to.equal(true);
    expect(mayBeContact('root@elsewhere.net', POLICY)).to.equal(true);
    for (const jid of ['eve@elsewhere.net', 'example.org', 'invites.example.org', 'eve@sub.example.org', 'a@b@example.org', '@example.org']) {
      expect(mayBeContact(jid, POLICY), jid).to.equal(false);
    }
  });

  it('a local subscribe gets subscribed and a subscribe back carrying the nick (XEP-0172)', () => {
    const d = decidePresence(presenceFrom('Alice@example.org/phone', 'subscribe'), SELF, POLICY, NICK)!;
    expect(d.kind).to.equal('accept');
    expect(d.send.map((s) => [s.attrs.to, s.attrs.type])).to.deep.equal([
      ['Alice@example.org', 'subscribed'], ['Alice@example.org', 'subscribe'],
    ]);
    expect(d.send[1]!.getChildText('nick', 'http://jabber.org/protocol/nick')).to.equal(NICK);
    expect(d.send[0]!.getChild('nick')).to.equal(undefined);
  });

  it('an admin of another domain is accepted; a stranger gets unsubscribed, nothing else', () => {
    expect(decidePresence(presenceFrom('root@elsewhere.net', 'subscribe'), SELF, POLICY, NICK)!.kind).to.equal('accept');
    const d = decidePresence(presenceFrom('eve@elsewhere.net/x', 'subscribe'), SELF, POLICY, NICK)!;
    expect(d.kind).to.equal('refuse');
    expect(d.send.map((s) => s.attrs.type)).to.deep.equal(['unsubscribed']);
  });

  it('unsubscribe and unsubscribed are answered with one unsubscribe; nothing else is answered', () => {
    for (const type of ['unsubscribe', 'unsubscribed']) {
      const d = decidePresence(presenceFrom('alice@example.org', type), SELF, POLICY, NICK)!;
      expect(d.kind, type).to.equal('ended');
      expect(d.send.map((s) => [s.attrs.to, s.attrs.type])).to.deep.equal([['alice@example.org', 'unsubscribe']]);
    }
    for (const type of [undefined, 'unavailable', 'subscribed', 'probe', 'error']) {
      expect(decidePresence(presenceFrom('alice@example.org/x', type), SELF, POLICY, NICK), String(type)).to.equal(undefined);
    }
    expect(decidePresence(presenceFrom(`${SELF}/other`, 'subscribe'), SELF, POLICY, NICK)).to.equal(undefined);
    expect(decidePresence(xml('message', { from: 'alice@example.org', type: 'subscribe' }), SELF, POLICY, NICK)).to.equal(undefined);
  });
});

describe('bot as a contact: limits on presence answers', () => {
  const refuse = (to: string): PresenceDecision => ({ kind: 'refuse', to, send: [] });
  const accept = (to: string): PresenceDecision => ({ kind: 'accept', to, send: [] });

  it('a flood from ever new addresses keeps at most `remember` entries and answers at most perWindow', () => {
    let now = 0;
    const a = new PresenceAnswers({ perWindow: 50, windowMs: 1000, remember: 100 }, () => now);
    let answered = 0;
    for (let i = 0; i < 20_000; i++) {
      if (i % 1000 === 0) now += 1000;
      if (a.admit(refuse(`spam${i}@elsewhere.net`)).ok) answered++;
      expect(a.size).to.be.at.most(100);
    }
    expect(answered).to.equal(20 * 50);
  });

  it("strangers' refusals never use up the approvals of the server's own accounts", () => {
    const now = 0;
    const a = new PresenceAnswers({ perWindow: 3, windowMs: 1000 }, () => now);
    for (let i = 0; i < 10; i++) a.admit(refuse(`spam${i}@elsewhere.net`));
    expect([1, 2, 3].map((i) => a.admit(accept(`user${i}@example.org`)).ok)).to.deep.equal([true, true, true]);
    expect(a.admit(accept('user4@example.org')).ok).to.equal(false);
  });

  it('tells, once per window, how many were left out', () => {
    let now = 0;
    const a = new PresenceAnswers({ perWindow: 2, windowMs: 1000 }, () => now);
    const r = [1, 2, 3, 4].map((i) => a.admit(refuse(`s${i}@x.net`)));
    expect(r.map((x) => x.ok)).to.deep.equal([true, true, false, false]);
    now = 1000;
    expect(a.admit(refuse('s5@x.net')).droppedBefore).to.equal(2);
    expect(a.admit(refuse('s6@x.net')).droppedBefore).to.equal(0);
  });

  it('the same refusal or acknowledgement goes to an address once a minute; acceptances always', () => {
    let now = 0;
    const a = new PresenceAnswers({}, () => now);
    expect(a.admit(refuse('eve@x.net')).ok).to.equal(true);
    expect(a.admit(refuse('EVE@x.net'))).to.include({ ok: false, why: 'repeat' });
    expect(a.admit({ kind: 'ended', to: 'eve@x.net', send: [] }).ok).to.equal(true);
    expect(a.admit(accept('alice@example.org')).ok).to.equal(true);
    expect(a.admit(accept('alice@example.org')).ok).to.equal(true);
    now = 60_000;
    expect(a.admit(refuse('eve@x.net')).ok).to.equal(true);
  });
});

describe('bot as a contact: profile stanzas', () => {
  it('the nick is published open to all, the vCard names the service and the domain', () => {
    const pub = nickPublish(NICK);
    expect(pub.getChild('publish')!.attrs.node).to.equal('http://jabber.org/protocol/nick');
    expect(pub.getChild('publish')!.getChild('item')!.getChildText('nick', 'http://jabber.org/protocol/nick')).to.equal(NICK);
    const fields = pub.getChild('publish-options')!.getChild('x', 'jabber:x:data')!.getChildren('field');
    expect(fields.map((f) => [f.attrs.var, f.getChildText('value')])).to.deep.include(['pubsub#access_model', 'open']);
    const card = vcardTemp(profileCard({ name: NICK, domain: 'example.org', publicUrl: 'https://invites.example.org' }));
    expect(card.attrs.xmlns).to.equal('vcard-temp');
    expect(card.getChildText('FN')).to.equal(NICK);
    expect(card.getChildText('NICKNAME')).to.equal(NICK);
    expect(card.getChildText('DESC')).to.include('example.org');
    expect(card.getChildText('URL')).to.equal('https://invites.example.org');
    expect(vcardTemp(profileCard({ name: NICK, domain: 'example.org' })).getChild('URL')).to.equal(undefined);
  });

  it('textMessage stamps xml:lang only when told', () => {
    expect(textMessage('a@b', 'hallo', 'chat', 'de').attrs['xml:lang']).to.equal('de');
    expect(textMessage('a@b', 'hi').attrs).to.not.have.property('xml:lang');
  });
});

describe('bot: the language of a message', () => {
  it("the message's xml:lang, else the stream's, else DEFAULT_LANGUAGE; tags mapped to ours", () => {
    const d = { stream: 'fr', fallback: 'es' as const };
    expect(commandMessage(chat('alice@example.org/x', 'help', { 'xml:lang': 'de' }), SELF, d)!.lang).to.equal('de');
    expect(messageLanguage(chat('a@b', 'x', { 'xml:lang': 'de-AT' }), d)).to.equal('de');
    expect(messageLanguage(chat('a@b', 'x'), d)).to.equal('fr');
    expect(messageLanguage(chat('a@b', 'x'), { fallback: 'es' })).to.equal('es');
    expect(messageLanguage(chat('a@b', 'x', { 'xml:lang': 'ja' }), d)).to.equal('es');
    // The body's own xml:lang wins over the one Prosody stamps on the stanza.
    const tagged = xml('message', { from: 'a@b/x', type: 'chat', 'xml:lang': 'en' }, xml('body', { 'xml:lang': 'fr' }, 'aide'));
    expect(messageLanguage(tagged, d)).to.equal('fr');
    expect(commandMessage(chat('alice@example.org/x', 'help'), SELF)!.lang).to.equal('en');
  });
});

describe('bot: languages wired through (no server)', () => {
  function fakeBot() {
    const handled: unknown[][] = [];
    const dispatcher = {
      isAdmin: async () => false,
      handle: async (...args: unknown[]) => { handled.push(args); return 'ok'; },
    } as unknown as Dispatcher;
    const bot = new Bot({ service: 'xmpp://127.0.0.1:1', jid: SELF, password: 'x', resource: 'bot', language: 'fr', rateLimit: { points: 100_000, duration: 60 } }, dispatcher);
    const sent: Element[] = [];
    bot.xmpp.send = async (el: Element) => { sent.push(el); };
    const receive = (el: Element) => bot.xmpp.emit('stanza', el);
    const settle = () => new Promise((r) => setTimeout(r, 20));
    return { bot, handled, sent, receive, settle };
  }

  it("a message with xml:lang='de' reaches the dispatcher with 'de', and the sender's language is remembered", async () => {
    const { bot, handled, sent, receive, settle } = fakeBot();
    expect(bot.languageOf('alice@example.org')).to.equal('fr'); // DEFAULT_LANGUAGE: never heard from
    receive(chat('alice@example.org/phone', 'help', { 'xml:lang': 'de' }));
    await settle();
    expect(handled).to.have.length(1);
    expect(handled[0]![0]).to.equal('alice@example.org');
    expect(handled[0]![3], 'the 4th argument of dispatcher.handle').to.equal('de');
    expect(bot.languageOf('Alice@example.org/other')).to.equal('de');
    expect(sent[0]!.attrs.to).to.equal('alice@example.org/phone');
    receive(chat('alice@example.org/phone', 'help', { 'xml:lang': 'es-MX' }));
    await settle();
    expect(bot.languageOf('alice@example.org')).to.equal('es');
  });

  it('tell() stamps the language it is given', () => {
    const { bot, sent } = fakeBot();
    bot.tell('alice@example.org', 'Ihre Einladung wurde benutzt', 'de');
    expect(sent[0]!.attrs['xml:lang']).to.equal('de');
  });

  it(`remembers at most ${LANGUAGES_KEPT} senders, the one heard from longest ago forgotten first`, async () => {
    const { bot, receive, settle } = fakeBot();
    receive(chat('first@example.org/x', 'help', { 'xml:lang': 'de' }));
    receive(chat('second@example.org/x', 'help', { 'xml:lang': 'de' }));
    receive(chat('first@example.org/x', 'help', { 'xml:lang': 'de' })); // heard again: now the newest
    for (let i = 0; i < LANGUAGES_KEPT - 1; i++) receive(chat(`u${i}@example.org/x`, 'help', { 'xml:lang': 'es' }));
    await settle();
    expect(bot.languageOf('second@example.org')).to.equal('fr'); // dropped
    expect(bot.languageOf('first@example.org')).to.equal('de');
    expect(bot.languageOf(`u${LANGUAGES_KEPT - 2}@example.org`)).to.equal('es');
  });

  it('answers a subscription through the connection, and ignores presence broadcasts', async () => {
    const { sent, receive } = fakeBot();
    receive(presenceFrom('alice@example.org/phone'));
    receive(presenceFrom('alice@example.org/phone', 'subscribe'));
    receive(presenceFrom('eve@elsewhere.net/x', 'subscribe'));
    expect(sent.map((s) => [s.attrs.to, s.attrs.type])).to.deep.equal([
      ['alice@example.org', 'subscribed'], ['alice@example.org', 'subscribe'], ['eve@elsewhere.net', 'unsubscribed'],
    ]);
  });
});

describe('bot: XEP-0115 caps', () => {
  it('computes ver as XEP-0115 §5.2 does (its worked example)', () => {
    const ver = capsVer([{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }],
      ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'http://jabber.org/protocol/muc']);
    expect(ver).to.equal('QgayPKawpkPSDYmwT/WM94uAlu0=');
  });
});
