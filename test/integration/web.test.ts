// The web pages of the running service (real Prosody, bridge, component and
// bot): accounts made over XEP-0133 by the bot, tokens shared with the in-band
// path, the QR code sent in chat, and hostile names rendered harmless.
import { join } from 'node:path';
import { expect } from 'chai';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { freePorts } from '../../src/server/free-port.js';
import { refusal, registerWith } from '../helpers/ibr.js';
import { BOT, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { csrfOf, heading, tokenOf, WebClient } from '../helpers/web.js';
import { connectUser, rosterOf, type User } from '../helpers/xmpp-user.js';
import { eventually } from '../helpers/eventually.js';

const NEW_PASSWORD = 'web-password-1';
const form = (username: string, password = NEW_PASSWORD) => ({ username, password, password2: password });

const contactsOf = async (user: User): Promise<string[]> => [...(await rosterOf(user)).keys()];


describe(`web pages of the running service (real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  let base: string;
  let web: WebClient;
  let boss: User;

  before(async () => {
    const [port] = await freePorts(1);
    base = `http://127.0.0.1:${port}`;
    stack = await startStack(
      { PUBLIC_URL: base, HTTP_PORT: String(port), ALLOW_USER_INVITES: 'true', BOT_RATE_LIMIT: '1000/1' },
      { app: { web: { registerLimit: { max: 1000, windowMs: 60_000 } } } },
    );
    web = new WebClient(base);
    boss = await stack.user(`boss@${DOMAIN}`);
  });
  after(() => stack?.stop());

  /** An invite made by the bot for `user`: its landing path and token. */
  async function invite(user: User, command: string): Promise<{ path: string; token: string; reply: string }> {
    const reply = await user.ask(BOT, command);
    const url = /Or open it on the web: (\S+)/.exec(reply)?.[1];
    if (!url) throw new Error(`no web link in: ${reply}`);
    expect(url.startsWith(`${base}/invite/`)).to.equal(true);
    await user.next(BOT, 5000); // the QR code message
    return { path: url.slice(base.length), token: tokenOf(url), reply };
  }

  const login = (jid: string, password: string) => connectUser(stack.server.service, jid, password).then((u) => { stack.users.push(u); return u; });

  it('the bot sends the QR code as an inline image after the invite', async () => {
    const reply = await boss.ask(BOT, 'invite account');
    const landing = /Or open it on the web: (\S+)/.exec(reply)![1]!;
    const qr = await boss.next(BOT, 5000);
    expect(qr, 'QR message').to.exist;
    const url = `${landing}/qr.png`;
    expect(qr!.getChildText('body')).to.equal(url);
    expect(qr!.getChild('x', 'jabber:x:oob')?.getChildText('url')).to.equal(url);
    const png = await fetch(url);
    expect([png.status, png.headers.get('content-type')]).to.deep.equal([200, 'image/png']);
    const page = await web.get(landing.slice(base.length));
    expect(page.status).to.equal(200);
    expect(page.headers.get('link')).to.equal(`<${/^xmpp:\S+$/m.exec(reply)![0]}>; rel="alternate"`);
  });

  it('unknown, used, revoked invites: 404 and 410 pages', async () => {
    expect((await web.get('/invite/AAAAAAAAAAAAAAAAAAAAAAAA')).status).to.equal(404);
    const inv = await invite(boss, 'invite account');
    const id = /Id (\w+)/.exec(inv.reply)![1]!;
    await boss.ask(BOT, `revoke ${id}`);
    const res = await web.get(inv.path);
    expect([res.status, heading(res.body)]).to.deep.equal([410, 'This invite has been cancelled']);
    expect((await web.get(`${inv.path}/qr.png`)).status).to.equal(410);
  });

  it('makes a real account on the server; it logs in; the token is then refused in-band and on the web', async () => {
    const inv = await invite(boss, 'invite account');
    const res = await web.submit(`${inv.path}/register`, form('webuser'));
    expect(res.status, res.body).to.equal(200);
    expect(res.body).to.include(`id="address">webuser@${DOMAIN}</span>`);
    expect(await stack.server.userExists('webuser')).to.equal(true);
    const u = await login(`webuser@${DOMAIN}`, NEW_PASSWORD);
    expect(String(u.xmpp.jid)).to.match(/^webuser@localhost\//);

    const again = await refusal(registerWith(stack.server.service, DOMAIN, { token: inv.token, username: 'webuser2', password: PASSWORD }));
    expect(again.condition).to.be.oneOf(['forbidden', 'item-not-found', 'not-allowed']);
    expect(await stack.server.userExists('webuser2')).to.equal(false);
    expect(await stack.app.service.reserve(inv.token, { purpose: 'register', username: 'webuser3' })).to.include({ ok: false, code: 'used' });
    const landing = await web.get(inv.path);
    expect([landing.status, heading(landing.body)]).to.deep.equal([410, 'This invite has already been used']);
    // The bot tells the admin who made the invite.
    const told = await boss.next(BOT, 5000);
    expect(told?.getChildText('body')).to.match(/^webuser@localhost joined with your invite/);
  });

  it('after in-band use, the web refuses the same token', async () => {
    const inv = await invite(boss, 'invite account');
    await registerWith(stack.server.service, DOMAIN, { token: inv.token, username: 'ibruser', password: PASSWORD });
    expect(await stack.server.userExists('ibruser')).to.equal(true);
    await boss.next(BOT, 5000); // "ibruser joined"
    const get = await web.get(`${inv.path}/register`);
    expect([get.status, heading(get.body)]).to.deep.equal([410, 'This invite has already been used']);
    // A form opened before the in-band use, sent after it.
    const other = await invite(boss, 'invite account');
    const csrf = csrfOf((await web.get(`${other.path}/register`)).body)!;
    const post = await web.post(`${inv.path}/register`, { _csrf: csrf, ...form('ibruser2') });
    expect([post.status, heading(post.body)]).to.deep.equal([410, 'This invite has already been used']);
    expect(await stack.server.userExists('ibruser2')).to.equal(false);
  });

  it('a taken username: the server\'s refusal is shown, and the invite still works', async () => {
    await stack.server.register('zoe', PASSWORD);
    const inv = await invite(boss, 'invite account');
    const res = await web.submit(`${inv.path}/register`, form('Zoe'));
    expect(res.status).to.equal(409);
    expect(res.body).to.include('The username &quot;zoe&quot; is already taken. Choose another one.');
    expect((await stack.app.service.lookup(inv.token)).state).to.equal('valid');
    // Zoe's password is untouched.
    await login(`zoe@${DOMAIN}`, PASSWORD);
    expect((await web.submit(`${inv.path}/register`, form('zoe2'))).status).to.equal(200);
    await boss.next(BOT, 5000);
  });

  it('a reset invite sets a new password: the new one logs in, the old one no longer does', async () => {
    await stack.server.register('carol', PASSWORD);
    const inv = await invite(boss, 'invite reset carol');
    const res = await web.submit(`${inv.path}/register`, form('', 'carols-new-password'));
    expect(res.status, res.body).to.equal(200);
    expect(heading(res.body)).to.equal('Your password is changed');
    await login(`carol@${DOMAIN}`, 'carols-new-password');
    let oldFails = false;
    await login(`carol@${DOMAIN}`, PASSWORD).catch(() => { oldFails = true; });
    expect(oldFails).to.equal(true);
    await boss.next(BOT, 5000);
  });

  it('two submissions at once on one single-use invite make exactly one account', async () => {
    const inv = await invite(boss, 'invite account');
    const [a, b] = [new WebClient(base), new WebClient(base)];
    const [fa, fb] = await Promise.all([a.get(`${inv.path}/register`), b.get(`${inv.path}/register`)]);
    const results = await Promise.all([
      a.post(`${inv.path}/register`, { _csrf: csrfOf(fa.body)!, ...form('racer1') }),
      b.post(`${inv.path}/register`, { _csrf: csrfOf(fb.body)!, ...form('racer2') }),
    ]);
    // The other is told the invite is held right now (409) or, if the first one was done first, used (410).
    const [won, lost] = results.map((r) => r.status).sort();
    expect(won).to.equal(200);
    expect(lost).to.be.oneOf([409, 410]);
    const made = [await stack.server.userExists('racer1'), await stack.server.userExists('racer2')];
    expect(made.filter(Boolean)).to.have.length(1);
    expect((await stack.app.service.lookup(inv.token)).state).to.equal('used');
    await boss.next(BOT, 5000);
  });

  it('an account+contact invite from the web: the inviter is told and becomes a contact', async () => {
    const alice = await stack.user(`alice@${DOMAIN}`);
    const inv = await invite(alice, 'invite');
    expect(inv.reply).to.match(/^Contact invite: it creates an account/);
    const landing = await web.get(inv.path);
    expect(heading(landing.body)).to.equal(`alice@${DOMAIN} invited you to chat`);
    const done = await web.submit(`${inv.path}/register`, form('newbie'));
    expect(done.status).to.equal(200);
    // The success page waited for the follow-up: the contacts are made when it says so.
    expect(done.body).to.include(`You and alice@${DOMAIN} are now contacts.`);
    expect(done.body).to.include(`Send the message &quot;invite&quot; to ${BOT}`);
    const told = await alice.next(BOT, 5000);
    expect(told?.getChildText('body')).to.match(/^newbie@localhost joined with your invite \w+; you are now contacts\./);
    const newbie = await login(`newbie@${DOMAIN}`, NEW_PASSWORD);
    expect(await eventually(() => contactsOf(newbie), (r) => r.includes(`alice@${DOMAIN}`))).to.include(`alice@${DOMAIN}`);
  });

  it('a bound invite whose name was taken meanwhile, and a reset of a deleted account: the pages say so (the bridge is asked)', async () => {
    const bound = await stack.app.service.create({ system: 'cli' }, { kind: 'account', username: 'lateuser' });
    await stack.server.register('carla', PASSWORD);
    const reset = await stack.app.service.create({ system: 'cli' }, { kind: 'reset', username: 'carla' });
    if (!bound.ok || !reset.ok) throw new Error('not created');
    const path = (c: typeof bound) => c.ok ? c.landingUrl!.slice(base.length) : '';
    expect((await web.get(path(bound))).status).to.equal(200);
    await stack.server.register('lateuser', PASSWORD);
    await stack.server.unregister('carla');
    for (const suffix of ['', '/register']) {
      const taken = await web.get(path(bound) + suffix);
      expect([taken.status, heading(taken.body)]).to.deep.equal([409, 'This account already exists']);
      expect(taken.body).to.include(`The account lateuser@${DOMAIN} already exists`);
      const gone = await web.get(path(reset) + suffix);
      expect([gone.status, heading(gone.body)]).to.deep.equal([409, 'This account no longer exists']);
      expect(gone.body).to.include(`The account carla@${DOMAIN} no longer exists`);
    }
    const de = await new WebClient(base, { 'accept-language': 'de' }).get(path(bound));
    expect(heading(de.body)).to.equal('Dieses Konto gibt es schon');
  });

  it('a taken HTTP port or a bad CLIENTS_FILE stops a start with one clear line, and frees the store', async () => {
    // A second service beside the running one: its own store and bot resource, no component.
    const env = { ...stack.env, STORE_FILE: join(stack.dir, 'second.json'), BOT_RESOURCE: 'second', COMPONENT_SECRET: '' };
    const failure = (extra: Record<string, string>) => App.start(parseConfig({ ...env, ...extra })).then(
      async (app) => { await app.stop(); throw new Error('started'); },
      (e: Error) => e.message);
    expect(await failure({})).to.match(/^web pages: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    expect(await failure({ CLIENTS_FILE: join(stack.dir, 'absent.json') })).to.match(/^CLIENTS_FILE .*absent\.json: ENOENT/);
    // The failed starts let go of the store: it opens.
    const { LowdbStore } = await import('../../src/store/lowdb/lowdb-store.js');
    await (await LowdbStore.open(env.STORE_FILE)).close();
  });

  it('npm start\'s own choice of a web port, taken meanwhile, moves to a free one (with the links)', async () => {
    const env = { ...stack.env, STORE_FILE: join(stack.dir, 'third.json'), BOT_RESOURCE: 'third', COMPONENT_SECRET: '' };
    const taken = Number(new URL(stack.env.PUBLIC_URL!).port);
    const app = await App.start({ ...parseConfig(env), httpPort: taken, publicUrl: `http://127.0.0.1:${taken}`, httpPortChosen: true });
    try {
      const port = (app.web!.server.address() as { port: number }).port;
      expect(port).to.not.equal(taken);
      const made = await app.service.create({ system: 'cli' }, { kind: 'account' });
      expect(made.ok && made.landingUrl).to.match(new RegExp(`^http://127\\.0\\.0\\.1:${port}/invite/`));
    } finally {
      await app.stop();
    }
  });

  it('an inviter with a strange but valid name, and a hostile username, are rendered harmless', async () => {
    // JID local parts cannot hold < > & ' " but may hold these; the percent signs must never be decoded into markup.
    const weird = `%3cb%3ex{y}*!#;?+~`;
    const inviter = await stack.user(`${weird}@${DOMAIN}`);
    const inv = await invite(inviter, 'invite contact');
    const landing = await web.get(inv.path);
    expect(landing.status).to.equal(200);
    expect(heading(landing.body)).to.equal(`${weird}@${DOMAIN} invited you to chat`);
    expect(landing.body).to.not.include('<b>');
    // In the URI every special character is percent-encoded: no ";ibr", "?" or "#" can be smuggled in.
    const uri = `xmpp:${encodeURIComponent(weird)}@${DOMAIN}?roster;preauth=${inv.token}`;
    expect(landing.headers.get('link')).to.equal(`<${uri}>; rel="alternate"`);
    expect(landing.body).to.include(`href="${uri}"`);

    const account = await invite(boss, 'invite account');
    const evil = '<script>alert(1)</script>';
    const res = await web.submit(`${account.path}/register`, form(evil));
    expect(res.status).to.equal(422);
    expect(res.body).to.not.include('<script>');
    expect(res.body).to.include('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
  });
});
