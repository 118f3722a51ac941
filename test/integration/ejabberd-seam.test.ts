// The server seam on a real ejabberd (EJABBERD_VERSION: 23.01 by default, or 24.12):
// without our bridge the XEP-0133 adapter reads ejabberd's IQ errors for what they
// are, asks get-user-lastlogin whether an account exists, and never sends the
// password of a reset for a missing account (ejabberd would write it into its
// crash report); with the bridge the ejabberd adapter makes contacts and says
// the roles of invites stay the service's. doctor runs against both.
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { LocalEjabberd } from '../../src/server/ejabberd/local-ejabberd.js';
import { freePorts } from '../../src/server/free-port.js';
import { AdminCommands } from '../../src/xmpp/admin-commands.js';
import { runScript } from '../helpers/scripts.js';
import { csrfOf, WebClient } from '../helpers/web.js';
import { connectUser, type User } from '../helpers/xmpp-user.js';

const DOMAIN = 'localhost';
const BOT = `invitebot@${DOMAIN}`;
const BOT_PASSWORD = 'bot-password-1';
const COMPONENT = `invites.${DOMAIN}`;
const SECRET = 'component-secret-1';
const PASSWORD = 'web-password-1';
const form = (username: string, password = PASSWORD) => ({ username, password, password2: password });
const contactsLine = (html: string) => /id="contacts">([^<]*)</.exec(html)?.[1];
const rolesLine = (html: string) => /id="roles">([^<]*)</.exec(html)?.[1];
const line = (out: string, feature: string) => out.split('\n').find((l) => l.startsWith('[') && l.includes(`] ${feature}: `)) ?? '';

/** Every log ejabberd wrote (its log, error.log, what the node printed). */
async function allLogs(server: LocalEjabberd): Promise<string> {
  const dir = join(server.dir, 'log');
  const files = await readdir(dir);
  return (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8').catch(() => '')))).join('\n');
}

interface EjStack {
  server: LocalEjabberd;
  app?: App;
  dir: string;
  env: Record<string, string>;
  base: string;
  users: User[];
  stop(): Promise<void>;
}

async function startEjStack(bridge: boolean): Promise<EjStack> {
  const server = await LocalEjabberd.start({
    domain: DOMAIN, admins: [BOT], component: { domain: COMPONENT, secret: SECRET }, bridge, registration: bridge ? 'open' : 'closed',
  });
  await server.register('invitebot', BOT_PASSWORD);
  const dir = await mkdtemp(join(tmpdir(), 'invites-ej-'));
  const [port] = await freePorts(1);
  const base = `http://127.0.0.1:${port}`;
  const env = {
    XMPP_SERVICE: server.service, BOT_JID: BOT, BOT_PASSWORD, ADMINS: `boss@${DOMAIN}`,
    COMPONENT_DOMAIN: COMPONENT, COMPONENT_SERVICE: server.componentService, COMPONENT_SECRET: SECRET,
    STORE_FILE: join(dir, 'invites.json'), PUBLIC_URL: base, HTTP_PORT: String(port),
  };
  const s: EjStack = {
    server, dir, env, base, users: [],
    async stop() {
      await Promise.all(s.users.map((u) => u.stop()));
      await s.app?.stop();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return s;
}

async function create(app: App, req: Parameters<App['service']['create']>[1], actor: Parameters<App['service']['create']>[0] = { system: 'cli' }) {
  const r = await app.service.create(actor, req);
  if (!r.ok) throw new Error(r.message);
  return r;
}

const doctor = (s: EjStack) => runScript('src/cli.ts', ['doctor'], { cwd: s.dir, vars: s.env });

describe('server seam on a real ejabberd', function () {
  this.timeout(90_000);

  describe('without the bridge (XEP-0133 adapter)', () => {
    let s: EjStack;
    let web: WebClient;
    before(async () => {
      s = await startEjStack(false);
      await s.server.register('alice', 'alice-password-1');
      s.app = await App.start(parseConfig(s.env), { web: { registerLimit: { max: 1000, windowMs: 60_000 } } });
      web = new WebClient(s.base);
    });
    after(() => s?.stop());

    it('chooses the XEP-0133 adapter for ejabberd, and asks existence with get-user-lastlogin', async () => {
      const server = s.app!.server!;
      expect([server.kind, server.software?.name]).to.deep.equal(['xep0133', 'ejabberd']);
      expect(await server.account(`alice@${DOMAIN}`)).to.deep.equal({ exists: true, admin: false });
      expect(await server.account(`ghost@${DOMAIN}`)).to.deep.equal({ exists: false, admin: false });
      expect(await s.app!.service.deadEnd('reset', 'ghost')).to.equal('no-account');
      expect(await s.app!.service.deadEnd('account', 'alice')).to.equal('username-taken');
    });

    it('XEP-0133 answers as IQ errors: conflict, item-not-found, forbidden, each read for what it means', async () => {
      const bot = await connectUser(s.server.service, BOT, BOT_PASSWORD);
      s.users.push(bot);
      const admin = new AdminCommands(bot.xmpp.iqCaller, DOMAIN);
      expect(await admin.addUser('alice', 'pw-exists-1')).to.deep.equal({ ok: false, reason: 'exists', message: 'conflict' });
      // The raw command, unguarded: ejabberd answers item-not-found, and writes the password into its log.
      expect(await admin.changePassword('ghost', 'CANARY-raw-1')).to.deep.equal({ ok: false, reason: 'no-such-user', message: 'item-not-found: No hook has processed this command' });
      await s.server.register('plain', 'plain-password-1');
      const plain = await connectUser(s.server.service, `plain@${DOMAIN}`, 'plain-password-1');
      s.users.push(plain);
      expect(await new AdminCommands(plain.xmpp.iqCaller, DOMAIN).addUser('zed', 'pw-zed-1')).to.deep.equal({ ok: false, reason: 'forbidden', message: 'forbidden: Access denied by service policy' });
      // Give ejabberd's logger its moment: the check below must be able to fail.
      await new Promise((r) => setTimeout(r, 500));
      expect(await allLogs(s.server), 'ejabberd logs a failed change-user-password with its password').to.include('CANARY-raw-1');
    });

    it('a taken username on the web form: 409 "already taken" (was 503 "cannot be reached")', async () => {
      const { token } = await create(s.app!, { kind: 'account' });
      const page = await web.submit(`/invite/${token}/register`, form('alice'));
      expect(page.status).to.equal(409);
      expect(page.body).to.include('is already taken').and.not.include('cannot be reached');
    });

    it('a reset for an account removed after the form opened: refused, and the password never reaches ejabberd', async () => {
      await s.server.register('frank', 'frank-password-1');
      const { token } = await create(s.app!, { kind: 'reset', username: 'frank' });
      const opened = await web.get(`/invite/${token}/register`);
      await s.server.unregister('frank');
      const gone = await web.post(`/invite/${token}/register`, { _csrf: csrfOf(opened.body)!, password: 'CANARY-web-1', password2: 'CANARY-web-1' });
      expect(gone.status).to.equal(409);
      expect(gone.body).to.include('This account no longer exists');
      await new Promise((r) => setTimeout(r, 500));
      expect(await allLogs(s.server)).to.not.include('CANARY-web-1');
      expect(await s.server.userExists('frank')).to.equal(false);
    });

    it('account+contact and admin invites: the page says no contacts were made, and the roles are the service\'s', async () => {
      await s.server.register('boss', 'boss-password-1');
      const boss = await connectUser(s.server.service, `boss@${DOMAIN}`, 'boss-password-1');
      s.users.push(boss);
      const ac = await create(s.app!, { kind: 'account-contact' }, { jid: `boss@${DOMAIN}` });
      const opened = await web.get(`/invite/${ac.token}/register`);
      expect(opened.body, 'the form promises no contacts').to.include(`This server cannot add boss@${DOMAIN} to your contacts by itself`);
      const page = await web.submit(`/invite/${ac.token}/register`, form('dora'));
      expect(page.status).to.equal(200);
      expect(contactsLine(page.body)).to.equal(`boss@${DOMAIN} could not be added to your contacts automatically: add boss@${DOMAIN} yourself once you are logged in.`);
      const told = await boss.next(BOT, 5000);
      expect(told?.getChildText('body'), 'the inviter is told no contacts were made').to.match(/^dora@localhost joined with your invite \w+, but could not be added to your contacts: add them yourself\.$/);
      const adm = await create(s.app!, { kind: 'account', roles: ['admin'] });
      const page2 = await web.submit(`/invite/${adm.token}/register`, form('erin'));
      expect(rolesLine(page2.body)).to.equal(`This account will have these roles in the invite service of ${DOMAIN}: administrator. The chat server itself does not give them.`);
      expect(await s.server.userExists('erin')).to.equal(true);
    });

    it('doctor (service running): no bridge, with ejabberd\'s fix; component held by the service; exit 1', async () => {
      const r = await doctor(s);
      expect(r.code, r.stdout + r.stderr).to.equal(1);
      expect(line(r.stdout, 'server software')).to.match(/The server is ejabberd \S+ \(from XEP-0092 software version\)\./);
      expect(line(r.stdout, 'component')).to.match(/is connected \(by the running service: it answers at its address\)/);
      expect(line(r.stdout, 'bridge')).to.match(/^\[FAIL\] bridge: /);
      expect(line(r.stdout, 'XEP-0133')).to.match(/^\[ok {2}\] XEP-0133: .*\(get-user-lastlogin\)\./);
      expect(line(r.stdout, 'in-band registration')).to.match(/^\[ok {2}\] in-band registration: Closed/);
      expect(s.app!.component!.online).to.equal(true);
    });
  });

  describe('with the bridge (ejabberd adapter)', () => {
    let s: EjStack;
    let web: WebClient;
    before(async () => {
      s = await startEjStack(true);
      s.app = await App.start(parseConfig(s.env), { web: { registerLimit: { max: 1000, windowMs: 60_000 } } });
      web = new WebClient(s.base);
    });
    after(() => s?.stop());

    it('chooses the ejabberd adapter by the bridge\'s info; it makes contacts, gives no roles', async () => {
      const server = s.app!.server!;
      expect([server.kind, server.software?.name, server.makesContacts, server.grantsRoles]).to.deep.equal(['ejabberd', 'ejabberd', true, false]);
      expect(await server.grantRoles(`x@${DOMAIN}`, ['admin'])).to.deep.include({ outcome: 'unsupported' });
    });

    it('web account+contact: the contacts are made through the bridge, and the page says so', async () => {
      await s.server.register('boss', 'boss-password-1');
      const ac = await create(s.app!, { kind: 'account-contact' }, { jid: `boss@${DOMAIN}` });
      const page = await web.submit(`/invite/${ac.token}/register`, form('dora'));
      expect(page.status).to.equal(200);
      expect(contactsLine(page.body)).to.equal(`You and boss@${DOMAIN} are now contacts.`);
    });

    it('doctor: service stopped, then running', async () => {
      await s.app!.stop();
      s.app = undefined;
      const stopped = await doctor(s);
      expect(line(stopped.stdout, 'bridge')).to.match(/^\[ok {2}\] bridge: mod_invites_bridge is loaded \(it answers info\)/);
      expect(line(stopped.stdout, 'server software')).to.match(/The server is ejabberd \S+ \(from the bridge's info\)\./);
      expect(line(stopped.stdout, 'component')).to.match(/^\[ok {2}\] component: .* connects at/);
      expect(line(stopped.stdout, 'in-band registration')).to.match(/^\[ok {2}\] in-band registration: Open to clients, and the bridge refuses it without an invite token/);
      expect(stopped.code, stopped.stdout).to.equal(0);
      s.app = await App.start(parseConfig(s.env));
      const running = await doctor(s);
      expect(line(running.stdout, 'component')).to.match(/is connected \(by the running service/);
      expect(running.code, running.stdout).to.equal(0);
    });
  });
});
