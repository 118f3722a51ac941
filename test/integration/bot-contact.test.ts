// The bot as a contact, end to end on a real Prosody: a local user's subscription
// becomes mutual and the bot's presence (its full JID, where the ad-hoc commands
// are) reaches them; strangers are refused; its nickname and vCard are readable;
// the language of a message is remembered.
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { freePorts } from '../../src/server/free-port.js';
import { CAPS_NODE, capsVer } from '../../src/xmpp/caps.js';
import { eventually } from '../helpers/eventually.js';
import { BOT, DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
import { rosterOf, type User } from '../helpers/xmpp-user.js';

const NS_NICK = 'http://jabber.org/protocol/nick';
const NS_COMMANDS = 'http://jabber.org/protocol/commands';
const OTHER = 'other.localhost';


/** eventually(), failing when the condition never held. */
async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const v = await eventually(probe, ok);
  if (!ok(v)) throw new Error(`never: ${what} (last: ${JSON.stringify(v instanceof Map ? [...v] : v)})`);
  return v;
}

const subscriptionOf = (user: User) => rosterOf(user).then((r) => r.get(BOT)?.subscription ?? 'none');

/** Every presence `user` receives from the bot, in order. */
function presencesFromBot(user: User): Element[] {
  const seen: Element[] = [];
  user.xmpp.on('stanza', (el: Element) => {
    if (el.is('presence') && String(el.attrs.from ?? '').split('/')[0] === BOT) seen.push(el);
  });
  return seen;
}

/** As Conversations does for a contact it added (its "preemptive grant"): approve the bot's subscription request. */
function approveBot(user: User): void {
  user.xmpp.on('stanza', (el: Element) => {
    if (el.is('presence') && el.attrs.type === 'subscribe' && el.attrs.from === BOT) {
      void user.send(xml('presence', { to: BOT, type: 'subscribed' }));
    }
  });
}

describe(`the bot as a contact (real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  let base: string;

  before(async () => {
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    stack = await startStack(
      { BOT_RATE_LIMIT: '1000/1', PUBLIC_URL: base, HTTP_PORT: String(port), ADMINS: `boss@${DOMAIN},root@${OTHER}` },
      { prosody: { extraHosts: [{ domain: OTHER }] } },
    );
  });
  after(() => stack?.stop());

  it('a local user who subscribes becomes a mutual contact, sees the bot online and finds its commands there', async () => {
    const alice = await stack.user(`alice@${DOMAIN}`);
    await rosterOf(alice); // a client that has its roster: told of subscription changes
    const fromBot = presencesFromBot(alice);
    approveBot(alice);
    await alice.send(xml('presence', { to: BOT, type: 'subscribe' }));

    const roster = await until(() => rosterOf(alice), (r) => r.get(BOT)?.subscription === 'both', 'alice: both');
    expect(roster.get(BOT)).to.deep.equal({ subscription: 'both', ask: undefined });
    // The bot's own request named it (XEP-0172 nick in the subscribe).
    const asked = fromBot.find((p) => p.attrs.type === 'subscribe')!;
    expect(asked.getChildText('nick', NS_NICK)).to.equal('Invite bot');
    // Its available presence, from its full JID: where the ad-hoc commands are.
    const full = stack.app.bot.xmpp.jid!.toString();
    const online = await until(async () => fromBot.find((p) => p.attrs.type === undefined), (p) => p !== undefined, 'the bot online');
    expect(online!.attrs.from).to.equal(full);
    const items = await alice.xmpp.iqCaller.request(xml('iq', { type: 'get', to: online!.attrs.from },
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: NS_COMMANDS })));
    const nodes = items.getChild('query')!.getChildren('item').map((i: Element) => i.attrs.node);
    expect(nodes).to.include('urn:xmpp:invite#invite');
    // As Conversations finds them: the presence's XEP-0115 caps, then disco#info at node#ver
    // (it asks only when there are caps: PresenceParser, `if (presence.hasCaps()) fetchCaps(...)`).
    const c = online!.getChild('c', 'http://jabber.org/protocol/caps')!;
    expect(c.attrs).to.include({ hash: 'sha-1', node: CAPS_NODE });
    const info = await alice.xmpp.iqCaller.request(xml('iq', { type: 'get', to: full },
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: `${c.attrs.node}#${c.attrs.ver}` })));
    const q = info.getChild('query')!;
    expect(q.attrs.node).to.equal(`${c.attrs.node}#${c.attrs.ver}`);
    const features = q.getChildren('feature').map((f: Element) => String(f.attrs.var));
    expect(features).to.include(NS_COMMANDS);
    const identities = q.getChildren('identity').map((i: Element) => ({ category: String(i.attrs.category), type: String(i.attrs.type), name: i.attrs.name as string | undefined }));
    expect(capsVer(identities, features)).to.equal(c.attrs.ver);
  });

  it('the bot still shows online to a contact after it reconnects (initial presence goes to its roster)', async () => {
    const alice = await stack.user(`alice@${DOMAIN}`);
    const fromBot = presencesFromBot(alice);
    await stack.app.stop();
    await stack.startApp();
    const full = stack.app.bot.xmpp.jid!.toString();
    await until(async () => fromBot.filter((p) => p.attrs.type === undefined && p.attrs.from === full).length, (n) => n > 0, 'the bot online again');
    // No new requests came with it: the subscription stands.
    expect(fromBot.filter((p) => p.attrs.type === 'subscribe')).to.have.length(0);
  });

  it('a request made while the bot was away is answered when it comes back', async () => {
    await stack.app.stop();
    const hana = await stack.user(`hana@${DOMAIN}`);
    await rosterOf(hana);
    approveBot(hana);
    await hana.send(xml('presence', { to: BOT, type: 'subscribe' }));
    await new Promise((r) => setTimeout(r, 200));
    expect(await subscriptionOf(hana)).to.equal('none');
    await stack.startApp();
    await until(() => subscriptionOf(hana), (x) => x === 'both', 'hana: both');
  });

  it('an admin of another domain is accepted; a user of another domain is refused', async () => {
    const root = await stack.user(`root@${OTHER}`);
    await rosterOf(root);
    approveBot(root);
    await root.send(xml('presence', { to: BOT, type: 'subscribe' }));
    await until(() => subscriptionOf(root), (x) => x === 'both', 'root: both');

    const eve = await stack.user(`eve@${OTHER}`);
    await rosterOf(eve);
    const fromBot = presencesFromBot(eve);
    await eve.send(xml('presence', { to: BOT, type: 'subscribe' }));
    await until(async () => fromBot.find((p) => p.attrs.type === 'unsubscribed'), (p) => p !== undefined, 'eve refused');
    const r = await rosterOf(eve);
    expect(r.get(BOT)?.subscription ?? 'none').to.equal('none');
    expect(r.get(BOT)?.ask).to.equal(undefined);
    expect(fromBot.some((p) => p.attrs.type === undefined || p.attrs.type === 'subscribe' || p.attrs.type === 'subscribed')).to.equal(false);
  });

  it('an unsubscribe is answered in kind, once; subscribing again works', async () => {
    const dora = await stack.user(`dora@${DOMAIN}`);
    await rosterOf(dora);
    approveBot(dora);
    const fromBot = presencesFromBot(dora);
    await dora.send(xml('presence', { to: BOT, type: 'subscribe' }));
    await until(() => subscriptionOf(dora), (x) => x === 'both', 'dora: both');
    await dora.send(xml('presence', { to: BOT, type: 'unsubscribe' }));
    // The bot drops its half too: nothing left either way.
    await until(() => subscriptionOf(dora), (x) => x === 'none', 'dora: none');
    await new Promise((r) => setTimeout(r, 500));
    expect(fromBot.filter((p) => p.attrs.type === 'unsubscribe')).to.have.length(1);
    await dora.send(xml('presence', { to: BOT, type: 'subscribe' }));
    await until(() => subscriptionOf(dora), (x) => x === 'both', 'dora: both');
  });

  it('a user who declines the bot\'s request keeps the bot as a contact it sees', async () => {
    const fred = await stack.user(`fred@${DOMAIN}`);
    await rosterOf(fred);
    fred.xmpp.on('stanza', (el: Element) => {
      if (el.is('presence') && el.attrs.type === 'subscribe' && el.attrs.from === BOT) void fred.send(xml('presence', { to: BOT, type: 'unsubscribed' }));
    });
    await fred.send(xml('presence', { to: BOT, type: 'subscribe' }));
    await until(() => subscriptionOf(fred), (x) => x === 'to', 'fred: to');
    await new Promise((res) => setTimeout(res, 500));
    expect(await subscriptionOf(fred), "the decline leaves fred's own subscription").to.equal('to');
  });

  it('publishes its nickname (XEP-0172), readable by anyone', async () => {
    const carol = await stack.user(`carol@${DOMAIN}`); // not a contact
    const res = await carol.xmpp.iqCaller.request(xml('iq', { type: 'get', to: BOT },
      xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('items', { node: NS_NICK }))));
    const item = res!.getChild('pubsub')!.getChild('items')!.getChild('item')!;
    expect(item.getChildText('nick', NS_NICK)).to.equal('Invite bot');
  });

  it('has a vCard (vcard-temp) naming the service and the server', async () => {
    const carol = await stack.user(`carol@${DOMAIN}`);
    const res = await carol.xmpp.iqCaller.request(xml('iq', { type: 'get', to: BOT }, xml('vCard', { xmlns: 'vcard-temp' })));
    const card = res.getChild('vCard', 'vcard-temp')!;
    expect(card.getChildText('FN')).to.equal('Invite bot');
    expect(card.getChildText('URL')).to.equal(base);
    // vcard_legacy keeps DESC as the vCard4 note, and gives it back as NOTE.
    expect(card.getChildText('DESC') ?? card.getChildText('NOTE')).to.include(DOMAIN);
    // Prosody's mod_vcard_legacy keeps the same card as XEP-0292 vCard4 over PEP; ejabberd keeps vcard-temp only.
    if (stack.server.kind !== 'prosody') return;
    const v4 = await carol.xmpp.iqCaller.request(xml('iq', { type: 'get', to: BOT },
      xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub' }, xml('items', { node: 'urn:xmpp:vcard4' }))));
    const vcard = v4.getChild('pubsub')!.getChild('items')!.getChild('item')!.getChild('vcard', 'urn:ietf:params:xml:ns:vcard-4.0')!;
    expect(vcard.getChild('fn')!.getChildText('text')).to.equal('Invite bot');
  });

  it("remembers the language a person writes in (the message's xml:lang)", async () => {
    const gina = await stack.user(`gina@${DOMAIN}`);
    await gina.send(xml('message', { to: BOT, type: 'chat', 'xml:lang': 'de' }, xml('body', {}, 'help')));
    const german = await gina.next(BOT);
    expect(german?.attrs['xml:lang'], 'the reply says its language').to.equal('de');
    expect(stack.app.bot.languageOf(`gina@${DOMAIN}`)).to.equal('de');
    // No xml:lang of its own: Prosody gives it the sender's stream language (xmpp.js declares none: "en").
    await gina.send(xml('message', { to: BOT, type: 'chat' }, xml('body', {}, 'help')));
    const english = await gina.next(BOT);
    expect(english?.attrs['xml:lang']).to.equal('en');
    expect(stack.app.bot.languageOf(`gina@${DOMAIN}`)).to.equal('en');
    expect(german?.getChildText('body'), 'answered in German').to.not.equal(english?.getChildText('body'));
  });
});
