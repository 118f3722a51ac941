// What the security review found holding up, kept so: attempts it made that
// had no test of their own yet (real Prosody, unauthenticated streams).
import { expect } from 'chai';
import xml from '@xmpp/xml';
import { iqError, openUnauthenticated } from '../helpers/raw-iq.js';
import { COMPONENT, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { conversations } from '../conformance/clients.js';

const NS_BRIDGE = 'urn:xmpp-invites:bridge:0';

describe(`abuse: attempts that are refused, and stay refused (real ${serverName()})`, function () {
  this.timeout(30_000);
  let stack: Stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.stop(); });

  it('a contact-only token cannot register an account, and is not spent by trying', async () => {
    const c = await stack.app.service.create({ jid: `ann@${DOMAIN}` }, { kind: 'contact' });
    if (!c.ok) throw new Error(c.message);
    const stream = await openUnauthenticated(stack.server.service, DOMAIN);
    const pre = iqError(await stream.iq.request(conversations.preauth(DOMAIN, c.token), 10_000));
    await stream.close();
    expect(pre).to.deep.include({ type: 'cancel', condition: 'item-not-found', text: 'This invite does not allow creating an account.' });
    expect((await stack.app.service.lookup(c.token)).state).to.equal('valid');
  });

  it('a token shown on one stream does not let another stream register', async () => {
    const a = await stack.app.service.create({ system: 'cli' }, { kind: 'account' });
    if (!a.ok) throw new Error(a.message);
    const shown = await openUnauthenticated(stack.server.service, DOMAIN);
    expect((await shown.iq.request(conversations.preauth(DOMAIN, a.token), 10_000)).attrs.type).to.equal('result');
    const other = await openUnauthenticated(stack.server.service, DOMAIN);
    const reg = await conversations.register(other, DOMAIN, 'crossover', PASSWORD);
    await Promise.all([shown.close(), other.close()]);
    expect(iqError(reg)).to.deep.include({ condition: 'not-acceptable', text: 'Registration on this server is through invitation only.' });
    expect(await stack.server.userExists('crossover')).to.equal(false);
    expect((await stack.app.service.lookup(a.token)).state).to.equal('valid');
  });

  it('an unauthenticated stream cannot speak the bridge protocol to the component, nor to the server', async () => {
    const a = await stack.app.service.create({ system: 'cli' }, { kind: 'account' });
    if (!a.ok) throw new Error(a.message);
    const stream = await openUnauthenticated(stack.server.service, DOMAIN);
    const asks = [
      xml('iq', { type: 'set', to: COMPONENT }, xml('register', { xmlns: NS_BRIDGE, username: 'sneak', token: a.token })),
      xml('iq', { type: 'get', to: COMPONENT }, xml('token', { xmlns: NS_BRIDGE, token: a.token })),
      xml('iq', { type: 'set', to: DOMAIN }, xml('grant', { xmlns: NS_BRIDGE, jid: `sneak@${DOMAIN}`, roles: 'prosody:admin' })),
      xml('iq', { type: 'get', to: DOMAIN }, xml('account', { xmlns: NS_BRIDGE, jid: `boss@${DOMAIN}` })),
    ];
    for (const ask of asks) {
      const reply = await stream.iq.request(ask, 10_000).catch(() => undefined);
      // Answered with an error, or the stream closed: never a result.
      expect(reply?.attrs.type ?? 'closed', ask.toString()).to.be.oneOf(['error', 'closed']);
      if (stream.closed()) break;
    }
    await stream.close();
    expect((await stack.app.service.lookup(a.token)).state).to.equal('valid');
  });
});
