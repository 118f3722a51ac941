// Finding 6 of the security review: a subscription carrying a token that was not
// approved went on to the user with its <preauth/>; Prosody stored the whole
// request (roster/USER.dat) and delivered it again, token included. Now the
// bridge takes the <preauth/> off every request it passes on.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { botInviteUri } from '../helpers/bot-reply.js';
import { tokenOf } from '../helpers/adhoc.js';
import { BOT, COMPONENT, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { connectUser } from '../helpers/xmpp-user.js';

const NS_PARS = 'urn:xmpp:pars:0';

/** What the server keeps of offline@'s roster: Prosody's roster file; all of ejabberd's Mnesia files (names and tokens are raw bytes there). */
async function stored(stack: Stack): Promise<string> {
  if (stack.server.kind === 'prosody') return readFile(join(stack.server.dir, 'data', 'localhost', 'roster', 'offline.dat'), 'utf8');
  const db = join(stack.server.dir, 'db');
  const files = await readdir(db);
  return (await Promise.all(files.map((f) => readFile(join(db, f), 'latin1').catch(() => '')))).join('\n');
}

describe(`abuse: tokens in subscription requests that are not approved (real ${serverName()})`, function () {
  this.timeout(30_000);
  let stack: Stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.stop(); });

  it('a request with someone else\'s token reaches an offline user, and later online, without the token; none is stored', async () => {
    const boss = await stack.user(`boss@${DOMAIN}`);
    const token = tokenOf(await botInviteUri(boss, BOT, 'invite'));
    await stack.server.register('offline', PASSWORD);
    const mallory = await stack.user(`mallory@${DOMAIN}`);
    await mallory.send(xml('presence', { to: `offline@${DOMAIN}`, type: 'subscribe' }, xml('preauth', { xmlns: NS_PARS, token })));
    // To a full JID: servers take it as a request to the bare JID (RFC 6121 3.1.3), and store it the same way.
    const eve = await stack.user(`eve@${DOMAIN}`);
    await eve.send(xml('presence', { to: `offline@${DOMAIN}/phone`, type: 'subscribe' }, xml('preauth', { xmlns: NS_PARS, token })));
    // From a component (no thread to ask the component in): passed on too, also without it.
    await stack.app.component!.xmpp.send(xml('presence', { from: `gw@${COMPONENT}`, to: `offline@${DOMAIN}`, type: 'subscribe' },
      xml('preauth', { xmlns: NS_PARS, token })));
    // And to a full JID from outside the server (a local sender's is made bare before delivery; this one is not).
    await stack.app.component!.xmpp.send(xml('presence', { from: `gw2@${COMPONENT}`, to: `offline@${DOMAIN}/phone`, type: 'subscribe' },
      xml('preauth', { xmlns: NS_PARS, token })));

    const requests: Element[] = [];
    // Stored requests come after the initial presence, which connectUser has just written.
    const user = await connectUser(stack.server.service, `offline@${DOMAIN}`, PASSWORD);
    user.xmpp.on('stanza', (el: Element) => { if (el.is('presence') && el.attrs.type === 'subscribe') requests.push(el); });
    stack.users.push(user);
    await new Promise((r) => setTimeout(r, 500));
    expect(requests.map((r) => String(r.attrs.from).split('/')[0]).sort()).to.deep.equal([`eve@${DOMAIN}`, `gw2@${COMPONENT}`, `gw@${COMPONENT}`, `mallory@${DOMAIN}`]);
    for (const r of requests) expect(r.getChild('preauth', NS_PARS), r.toString()).to.equal(undefined);
    const kept = await stored(stack);
    expect(kept).to.include('mallory').and.include('eve');
    expect(kept).to.not.include(token);
    expect((await stack.app.service.lookup(token)).state, 'not spent').to.equal('valid');
  });
});
