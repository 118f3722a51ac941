// Roles on the server: an account made from "invite admin" is a Prosody admin,
// as one made from Prosody's own admin invite (mod_invites on a second host of
// the same server) is; other roles are given too. In-band (the bridge gives the
// roles at registration) and on the web form (the component asks the bridge).
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { freePorts } from '../../src/server/free-port.js';
import { command, fieldsOf, formOf, notesOf, NS_COMMANDS, tokenOf } from '../helpers/adhoc.js';
import { botInviteUri, botReply } from '../helpers/bot-reply.js';
import { eventually } from '../helpers/eventually.js';
import { BOT, DOMAIN, PASSWORD, prosodyOf, type Stack, startStack } from '../helpers/stack.js';
import { WebClient } from '../helpers/web.js';
import { connectUser, type User } from '../helpers/xmpp-user.js';
import { conversations, registerLike } from '../conformance/clients.js';

const NATIVE = 'native.localhost';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const ADD_USER = 'http://jabber.org/protocol/admin#add-user';

/** The server's admin commands (XEP-0133) this account is offered at `host`. */
async function adminCommands(user: User, host: string): Promise<string[]> {
  const res = await user.xmpp.iqCaller.request(xml('iq', { type: 'get', to: host }, xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS })));
  return (res.getChild('query', NS_DISCO_ITEMS)!.getChildren('item') as Element[])
    .map((i) => String(i.attrs.node)).filter((n) => n.startsWith('http://jabber.org/protocol/admin#')).sort();
}

/** Register in-band with a token the way Conversations does (preauth, then the legacy fields). */
async function registerInBand(stack: Stack, host: string, token: string, username: string): Promise<void> {
  const { preauth, register } = await registerLike(conversations, stack.server.service, host, token, username, PASSWORD);
  expect(preauth?.attrs.type, preauth?.toString()).to.equal('result');
  expect(register?.attrs.type, register?.toString()).to.equal('result');
}

const login = async (stack: Stack, jid: string) => {
  const u = await connectUser(stack.server.service, jid, PASSWORD);
  stack.users.push(u);
  return u;
};

describe(`roles on the server (real Prosody ${process.env.PROSODY_VERSION ?? '0.12'}, beside its own mod_invites)`, function () {
  this.timeout(60_000);
  let stack: Stack;
  let boss: User;
  let web: WebClient;
  before(async () => {
    const [port] = await freePorts(1);
    stack = await startStack({ PUBLIC_URL: `http://127.0.0.1:${port}`, HTTP_PORT: String(port!) }, {
      prosody: {
        extraHosts: [{
          domain: NATIVE,
          modules: ['register', 'invites', 'invites_register', 'invites_adhoc', 'adhoc'],
          options: { allow_registration: true, registration_invite_only: true },
        }],
      },
    });
    web = new WebClient(`http://127.0.0.1:${port}`);
    boss = await stack.user(`boss@${DOMAIN}`);
  });
  after(async () => { await stack?.stop(); });

  it('an "invite admin" account can run the server\'s admin commands, the same ones as an account from Prosody\'s own admin invite', async () => {
    const ours = tokenOf(await botInviteUri(boss, BOT, 'invite admin'));
    await registerInBand(stack, DOMAIN, ours, 'ouradmin');
    const native = tokenOf(await prosodyOf(stack).nativeAdminInvite(NATIVE));
    await registerInBand(stack, NATIVE, native, 'nativeadmin');

    const ourAdmin = await login(stack, `ouradmin@${DOMAIN}`);
    const nativeAdmin = await login(stack, `nativeadmin@${NATIVE}`);
    const offered = await adminCommands(ourAdmin, DOMAIN);
    expect(offered).to.include(ADD_USER);
    expect(offered).to.deep.equal(await adminCommands(nativeAdmin, NATIVE));
    expect(await prosodyOf(stack).roles('ouradmin')).to.include('prosody:admin');

    // And it works: the new admin creates an account with the server's own command.
    const first = (await ourAdmin.xmpp.iqCaller.request(xml('iq', { type: 'set', to: DOMAIN }, command(ADD_USER, { action: 'execute' })))).getChild('command', NS_COMMANDS)!;
    expect(first.attrs.status, first.toString()).to.equal('executing');
    expect(fieldsOf(formOf(first))).to.have.property('accountjid');
    const done = (await ourAdmin.xmpp.iqCaller.request(xml('iq', { type: 'set', to: DOMAIN }, command(ADD_USER,
      { action: 'complete', sessionid: String(first.attrs.sessionid) },
      { FORM_TYPE: 'http://jabber.org/protocol/admin', accountjid: `madebyadmin@${DOMAIN}`, password: PASSWORD, 'password-verify': PASSWORD })))).getChild('command', NS_COMMANDS)!;
    expect(done.attrs.status).to.equal('completed');
    expect(notesOf(done).filter((n) => n.type === 'error')).to.deep.equal([]);
    expect(await stack.server.userExists('madebyadmin')).to.equal(true);

    // The service counts the server's admins as its own: this one may create account invites.
    const plain = await stack.user(`plainuser@${DOMAIN}`);
    expect(await adminCommands(plain, DOMAIN)).to.deep.equal([]);
  });

  it('an ordinary account from "invite account" is no admin of the server', async () => {
    await registerInBand(stack, DOMAIN, tokenOf(await botInviteUri(boss, BOT, 'invite account')), 'ordinary');
    const user = await login(stack, `ordinary@${DOMAIN}`);
    expect(await adminCommands(user, DOMAIN)).to.deep.equal([]);
    expect(await prosodyOf(stack).roles('ordinary')).to.not.include('prosody:admin');
  });

  it('"invite account --role member" gives the role on the server', async () => {
    const reply = await botReply(boss, BOT, 'invite account --role member');
    expect(reply).to.match(/with the role member/);
    await registerInBand(stack, DOMAIN, tokenOf(reply), 'amember');
    const roles = await prosodyOf(stack).roles('amember');
    expect(roles).to.include('prosody:member');
  });

  it('an admin invite used on the web form makes a server admin too (the component asks the bridge)', async () => {
    const token = tokenOf(await botInviteUri(boss, BOT, 'invite admin'));
    const page = await web.submit(`/invite/${token}/register`, { username: 'webadmin', password: PASSWORD, password2: PASSWORD });
    expect(page.status, page.body.slice(0, 300)).to.equal(200);
    const admin = await login(stack, `webadmin@${DOMAIN}`);
    const offered = await eventually(() => adminCommands(admin, DOMAIN), (c) => c.includes(ADD_USER));
    expect(offered).to.include(ADD_USER);
  });

  it('an account the server reports as its admin may use the bot\'s admin commands, and is not throttled', async () => {
    // Made admin on the server only (Prosody's own invite), unknown to ADMINS and to our store.
    await registerInBand(stack, DOMAIN, tokenOf(await botInviteUri(boss, BOT, 'invite account')), 'serveradmin');
    const native = tokenOf(await prosodyOf(stack).nativeAdminInvite(NATIVE));
    await registerInBand(stack, NATIVE, native, 'elsewhere'); // a native.localhost admin is no admin here
    const elsewhere = await login(stack, `elsewhere@${NATIVE}`);
    expect(await botReply(elsewhere, BOT, 'invite account')).to.match(/^Only accounts on localhost can create invites here/);
    await stack.server.register('serveradmin', PASSWORD); // same password; then made admin through the bridge
    await stack.app.component!.grant(DOMAIN, `serveradmin@${DOMAIN}`, ['prosody:admin']);
    const admin = await login(stack, `serveradmin@${DOMAIN}`);
    // Beyond BOT_RATE_LIMIT's 10 per 30 s: every one answered.
    const replies: string[] = [];
    for (let i = 0; i < 12; i++) replies.push(await botReply(admin, BOT, 'invite account'));
    expect(replies.every((r) => r.startsWith('Account invite: it creates an account')), replies.join('\n')).to.equal(true);
  });
});
