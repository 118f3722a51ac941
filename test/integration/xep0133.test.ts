// The service on a Prosody without our bridge (PROSODY_VERSION picks 0.12 or 13):
// the XEP-0133 adapter is chosen, and every answer of the real server is read as
// what it means: a taken name is "taken" (not "unreachable"), a missing account
// is refused before any password is sent, a bot that is no admin is "not allowed",
// and no page or message claims contacts or server roles that were not made.
import { expect } from 'chai';
import { freePorts } from '../../src/server/free-port.js';
import { LocalProsody } from '../../src/server/prosody/local-prosody.js';
import { AdminCommands } from '../../src/xmpp/admin-commands.js';
import { BOT, DOMAIN, type Stack, startStack } from '../helpers/stack.js';
import { csrfOf, WebClient } from '../helpers/web.js';
import { connectUser } from '../helpers/xmpp-user.js';

const PASSWORD = 'web-password-1';
const form = (username: string) => ({ username, password: PASSWORD, password2: PASSWORD });
const contactsLine = (html: string) => /id="contacts">([^<]*)</.exec(html)?.[1];
const rolesLine = (html: string) => /id="roles">([^<]*)</.exec(html)?.[1];

describe('without the bridge: the XEP-0133 adapter on a real Prosody', function () {
  this.timeout(60_000);
  let stack: Stack;
  let base: string;
  let web: WebClient;

  before(async () => {
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    // The component still connects; the VirtualHost has no bridge and no in-band registration.
    stack = await startStack({ PUBLIC_URL: base, HTTP_PORT: String(port) }, {
      prosody: { pluginPaths: [], hostModules: [], hostOptions: {} },
      app: { web: { registerLimit: { max: 1000, windowMs: 60_000 } } },
    });
    web = new WebClient(base);
    await stack.server.register('alice', 'alice-password-1');
  });
  after(() => stack?.stop());

  const create = async (req: Parameters<Stack['app']['service']['create']>[1], actor: Parameters<Stack['app']['service']['create']>[0] = { system: 'cli' }) => {
    const r = await stack.app.service.create(actor, req);
    if (!r.ok) throw new Error(r.message);
    return r;
  };

  it('chooses the XEP-0133 adapter, and names the server', async () => {
    const server = stack.app.server!;
    expect(server.kind).to.equal('xep0133');
    expect(server.software?.name).to.equal('prosody');
    expect(server.software?.version).to.match(stack.server.version === '13' ? /^13\./ : /^0\.12\./);
    expect([server.makesContacts, server.grantsRoles]).to.deep.equal([false, false]);
  });

  it('asks whether an account exists with user-stats: the core\'s dead ends work without a bridge', async () => {
    expect(await stack.app.server!.account(`alice@${DOMAIN}`)).to.deep.equal({ exists: true, admin: false });
    expect(await stack.app.server!.account(`ghost@${DOMAIN}`)).to.deep.equal({ exists: false, admin: false });
    expect(await stack.app.service.deadEnd('account', 'alice')).to.equal('username-taken');
    expect(await stack.app.service.deadEnd('reset', 'ghost')).to.equal('no-account');
    const refused = await stack.app.service.create({ system: 'cli' }, { kind: 'reset', username: 'ghost' });
    expect(refused).to.include({ ok: false, code: 'no-account' });
  });

  it('a taken username on the web form is "already taken" (409), not "cannot be reached"', async () => {
    const { invite, token } = await create({ kind: 'account' });
    const page = await web.submit(`/invite/${token}/register`, form('alice'));
    expect(page.status).to.equal(409);
    expect(page.body).to.include('is already taken');
    expect((await stack.app.service.lookup(token)).state, 'the use was given back').to.equal('valid');
    expect(invite.uses).to.deep.equal([]);
  });

  it('makes an account with add-user, and says contacts were not made (no bridge can make them)', async () => {
    const boss = await stack.user(`boss@${DOMAIN}`);
    const { token } = await create({ kind: 'account-contact' }, { jid: `boss@${DOMAIN}` });
    const opened = await web.get(`/invite/${token}/register`);
    expect(opened.body, 'the form promises no contacts').to.include(`This server cannot add boss@${DOMAIN} to your contacts by itself`)
      .and.not.include('and adds boss');
    const page = await web.submit(`/invite/${token}/register`, form('dora'));
    expect(page.status).to.equal(200);
    expect(await stack.server.userExists('dora')).to.equal(true);
    expect(contactsLine(page.body)).to.equal(`boss@${DOMAIN} could not be added to your contacts automatically: add boss@${DOMAIN} yourself once you are logged in.`);
    const told = await boss.next(BOT, 5000);
    expect(told?.getChildText('body'), 'the inviter is told no contacts were made').to.match(new RegExp(`^dora@${DOMAIN} joined with your invite \\w+, but could not be added to your contacts: add them yourself\\.$`));
    const dora = await connectUser(stack.server.service, `dora@${DOMAIN}`, PASSWORD);
    stack.users.push(dora);
  });

  it('an admin invite used on the web: the page says the roles are the invite service\'s only', async () => {
    const { token } = await create({ kind: 'account', roles: ['admin'] });
    const page = await web.submit(`/invite/${token}/register`, form('erin'));
    expect(page.status).to.equal(200);
    expect(rolesLine(page.body)).to.equal(`This account will have these roles in the invite service of ${DOMAIN}: administrator. The chat server itself does not give them.`);
    expect(stack.app.service.isAdmin(`erin@${DOMAIN}`), 'an admin of this service').to.equal(true);
  });

  it('a reset for an account removed since: refused before the password is sent; a reset of an existing one works', async () => {
    await stack.server.register('frank', 'frank-password-1');
    const { token } = await create({ kind: 'reset', username: 'frank' });
    // The form is opened while the account exists; it is removed before the form is sent.
    const opened = await web.get(`/invite/${token}/register`);
    await stack.server.unregister('frank');
    const gone = await web.post(`/invite/${token}/register`, { _csrf: csrfOf(opened.body)!, password: PASSWORD, password2: PASSWORD });
    expect(gone.status).to.equal(409);
    expect(gone.body).to.include('This account no longer exists');
    expect(await stack.server.userExists('frank'), 'no account made by a reset').to.equal(false);
    const r = await create({ kind: 'reset', username: 'alice' });
    const done = await web.submit(`/invite/${r.token}/register`, { password: PASSWORD, password2: PASSWORD });
    expect(done.status).to.equal(200);
    const alice = await connectUser(stack.server.service, `alice@${DOMAIN}`, PASSWORD);
    stack.users.push(alice);
  });
});

describe('XEP-0133 answers of a real Prosody, read by AdminCommands', function () {
  this.timeout(30_000);
  let prosody: LocalProsody;
  before(async () => {
    prosody = await LocalProsody.start({ domain: DOMAIN, admins: [`admin@${DOMAIN}`] });
    await prosody.register('admin', 'admin-password-1');
    await prosody.register('plain', 'plain-password-1');
    await prosody.register('taken', 'taken-password-1');
  });
  after(() => prosody?.stop());

  async function as(user: string) {
    const u = await connectUser(prosody.service, `${user}@${DOMAIN}`, `${user}-password-1`);
    return { u, admin: new AdminCommands(u.xmpp.iqCaller, DOMAIN) };
  }

  it('an admin: exists, no such user, created, changed', async () => {
    const { u, admin } = await as('admin');
    try {
      expect(await admin.addUser('taken', 'pw-1-xxxxxx')).to.deep.equal({ ok: false, reason: 'exists', message: 'Account already exists' });
      expect(await admin.changePassword('ghost', 'pw-1-xxxxxx')).to.deep.equal({ ok: false, reason: 'no-such-user', message: 'User does not exist' });
      expect(await admin.addUser('newbie', 'pw-1-xxxxxx')).to.deep.equal({ ok: true });
      expect(await prosody.userExists('newbie')).to.equal(true);
      expect(await admin.changePassword('newbie', 'pw-2-xxxxxx')).to.deep.equal({ ok: true });
    } finally {
      await u.stop();
    }
  });

  it('a bot that is no admin: forbidden, never "unreachable"', async () => {
    const { u, admin } = await as('plain');
    try {
      expect(await admin.addUser('zed', 'pw-1-xxxxxx')).to.deep.equal({ ok: false, reason: 'forbidden', message: "forbidden: You don't have permission to execute this command" });
      expect(await prosody.userExists('zed')).to.equal(false);
    } finally {
      await u.stop();
    }
  });
});
