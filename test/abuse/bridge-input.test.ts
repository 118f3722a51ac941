// What a review of the ejabberd bridge found, held on every server: registrations the
// bridge must not pass on to the server's own in-band registration (a <remove/> of
// another namespace, a stream to the host in capitals), a token not spent on a contact
// approved before, and contacts made without losing the names the users gave them.
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { tokenOf } from '../helpers/adhoc.js';
import { botInviteUri } from '../helpers/bot-reply.js';
import { eventually } from '../helpers/eventually.js';
import { iqError, openUnauthenticated } from '../helpers/raw-iq.js';
import { BOT, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { rosterItems, type User } from '../helpers/xmpp-user.js';

const NS_REGISTER = 'jabber:iq:register';
const SECRET = 'Secr3t-Not-In-Any-Log';

/** A registration set on a fresh stream to `domain`; the reply. */
async function rawRegister(stack: Stack, domain: string, query: Element): Promise<Element> {
  const s = await openUnauthenticated(stack.server.service, domain);
  try {
    return await s.iq.request(xml('iq', { type: 'set', to: domain }, query), 10_000);
  } finally {
    await s.close();
  }
}

const rosterItem = async (user: User, jid: string) => (await rosterItems(user)).find((i) => i.attrs.jid === jid);

describe(`abuse: registrations the bridge must not pass on, and contacts kept as named (real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.stop(); });

  it('a <remove/> of another namespace beside a username and password makes no account', async () => {
    const reply = await rawRegister(stack, DOMAIN, xml('query', { xmlns: NS_REGISTER },
      xml('remove', { xmlns: 'urn:example:not-register' }), xml('username', {}, 'mallory1'), xml('password', {}, SECRET)));
    expect(reply.attrs.type, reply.toString()).to.equal('error');
    expect(await stack.server.userExists('mallory1')).to.equal(false);
  });

  it('a stream to the host in capitals: refused as any other, and the password in no log', async () => {
    const reply = await rawRegister(stack, DOMAIN.toUpperCase(), xml('query', { xmlns: NS_REGISTER },
      xml('username', {}, 'mallory2'), xml('password', {}, SECRET)));
    expect(iqError(reply), reply.toString()).to.deep.include({ condition: 'not-acceptable', text: 'Registration on this server is through invitation only.' });
    expect(await stack.server.userExists('mallory2')).to.equal(false);
    // ejabberd writes its log a moment late.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stack.server.readLog()).to.not.include(SECRET);
  });

  it('a token is not spent on a contact whose subscription was approved before', async () => {
    const boss = await stack.user(`boss@${DOMAIN}`);
    const carol = await stack.user(`carol@${DOMAIN}`);
    await stack.app.component!.befriend(DOMAIN, boss.jid, carol.jid);
    await eventually(() => rosterItem(carol, boss.jid), (i) => i?.attrs.subscription === 'both');
    const token = tokenOf(await botInviteUri(boss, BOT, 'invite'));
    await carol.send(xml('presence', { to: boss.jid, type: 'subscribe' }, xml('preauth', { xmlns: 'urn:xmpp:pars:0', token })));
    await new Promise((r) => setTimeout(r, 1000));
    expect((await stack.app.service.lookup(token)).state).to.equal('valid');
    expect((await rosterItem(boss, carol.jid))?.attrs.subscription).to.equal('both');
  });

  it('making two accounts contacts keeps the name and groups one already gave the other', async () => {
    const dora = await stack.user(`dora@${DOMAIN}`);
    const emil = `emil@${DOMAIN}`;
    await stack.server.register('emil', PASSWORD);
    await dora.xmpp.iqCaller.set(xml('query', { xmlns: 'jabber:iq:roster' },
      xml('item', { jid: emil, name: 'Emil E.' }, xml('group', {}, 'Friends'))));
    await stack.app.component!.befriend(DOMAIN, dora.jid, emil);
    const item = await eventually(() => rosterItem(dora, emil), (i) => i?.attrs.subscription === 'both');
    expect(item?.attrs).to.deep.include({ subscription: 'both', name: 'Emil E.' });
    expect(item?.getChildText('group')).to.equal('Friends');
  });
});
