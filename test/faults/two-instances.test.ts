// Two service instances (child processes) on one PostgreSQL (a private server
// started here) and one real Prosody: one leads (bot and component), both serve
// the web pages; the leader is killed -9 in the middle of a burst of in-band
// registrations racing two to a single-use token, and the other takes over.
// Asserted: the follower's web form makes accounts and the leader tells the inviter;
// after the kill the other instance leads within seconds; no token makes two
// accounts; every account made has its use recorded, once the new leader has
// settled the dead one's holds; tokens whose registration died are usable again.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { InviteService } from '../../src/invites/service.js';
import { LocalPostgres } from '../../src/postgres/local-postgres.js';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { freePorts } from '../../src/server/free-port.js';
import { LocalProsody } from '../../src/server/prosody/local-prosody.js';
import { openStore } from '../../src/store/open-store.js';
import type { InviteStore } from '../../src/store/store.js';
import { botInviteUri, botReply } from '../helpers/bot-reply.js';
import { eventually } from '../helpers/eventually.js';
import { registerWith } from '../helpers/ibr.js';
import { ServiceProcess, type ServiceVars } from '../helpers/service-process.js';
import { WebClient, tokenOf } from '../helpers/web.js';
import { connectUser, rosterItems, type User } from '../helpers/xmpp-user.js';
import { ApiKeys } from '../../src/api/keys.js';

const DOMAIN = 'localhost';
const BOT = `invitebot@${DOMAIN}`;
const BOSS = `boss@${DOMAIN}`;
const COMPONENT = `invites.${DOMAIN}`;
const SECRET = 'two-instances-secret';
const PASSWORD = 'two-instances-pw-1';
const TOKENS = 16;
const FOLLOWING = /another instance holds the bot and the component/;

describe('faults: two instances on one PostgreSQL, the leader killed -9 mid-burst (real Prosody, real PostgreSQL)', function () {
  this.timeout(120_000);
  let pg: LocalPostgres;
  let prosody: LocalProsody;
  let url: string;
  let dirs: string[];
  let ports: number[];
  const services: ServiceProcess[] = [];
  let boss: User;
  let a: ServiceProcess;
  let b: ServiceProcess;

  const vars = (i: number): ServiceVars => ({
    server: prosody, botJid: BOT, botPassword: PASSWORD, componentDomain: COMPONENT, componentSecret: SECRET, admins: [BOSS], dir: dirs[i]!,
    extra: { STORE_URL: url, PUBLIC_URL: `http://127.0.0.1:${ports[i]}`, HTTP_PORT: String(ports[i]) },
  });

  before(async () => {
    [pg, prosody] = await Promise.all([
      LocalPostgres.start(),
      LocalProsody.start({
        domain: DOMAIN,
        admins: [BOT],
        ...bridgeOptions(COMPONENT, SECRET),
        // Registrations caught by the kill are refused after 1 s instead of 5.
        hostOptions: { ...bridgeOptions(COMPONENT, SECRET).hostOptions, invites_bridge_timeout: 1 },
      }),
    ]);
    url = await pg.createDatabase();
    await Promise.all(['invitebot', 'boss'].map((u) => prosody.register(u, PASSWORD)));
    dirs = await Promise.all([0, 1].map(() => mkdtemp(join(tmpdir(), 'invites-two-'))));
    ports = await freePorts(2);
    a = ServiceProcess.start(vars(0));
    services.push(a);
    await a.ready();
    b = ServiceProcess.start(vars(1));
    services.push(b);
    await b.waitFor(FOLLOWING);
    // Its web pages come up after it has found it does not lead.
    const health = () => fetch(`http://127.0.0.1:${ports[1]}/health`).then((r) => r.status, () => 0);
    expect(await eventually(health, (s) => s === 200, 15_000), 'the follower serves its pages').to.equal(200);
    boss = await connectUser(prosody.service, BOSS, PASSWORD);
  });

  after(async () => {
    await boss?.stop();
    for (const s of services) await s.stop();
    await prosody?.stop();
    await pg?.stop();
    for (const d of dirs ?? []) await rm(d, { recursive: true, force: true });
  });

  const healthOf = async (i: number) => (await fetch(`http://127.0.0.1:${ports[i]}/health`)).json() as Promise<Record<string, unknown>>;

  /** Read the shared store the way a third instance would. */
  async function withCore<T>(fn: (service: InviteService, store: InviteStore) => Promise<T>): Promise<T> {
    const store = await openStore({ storeFile: join(dirs[0]!, 'unused.json'), storeFsync: false, storeUrl: url });
    const service = new InviteService(store, {
      domain: DOMAIN, admins: [BOSS], allowUserInvites: false, allowContactInvites: true, maxInvitesPerUser: 10, inviteExpiry: 604800, resetExpiry: 86400,
    });
    try {
      return await fn(service, store);
    } finally {
      service.close();
      await store.close();
    }
  }

  it('one leads; the other\'s web form makes an account, and the leader\'s bot tells the inviter', async () => {
    expect(a.output).to.match(/bot online as /);
    expect(b.output, 'the follower runs no bot').to.not.match(/bot online as /);
    expect(await healthOf(1)).to.deep.include({ status: 'ok', leader: false, bot: false, store: true });
    expect(await healthOf(0)).to.deep.include({ status: 'ok', leader: true, bot: true, component: true });
    const token = tokenOf(await botInviteUri(boss, BOT, 'invite account'));
    const web = new WebClient(`http://127.0.0.1:${ports[1]}`);
    const res = await web.submit(`/invite/${token}/register`, { username: 'fromweb', password: 'a-long-new-password-1', password2: 'a-long-new-password-1' });
    expect(res.status, res.body.slice(0, 500)).to.equal(200);
    expect(await prosody.userExists('fromweb')).to.equal(true);
    // Handed to the leader through the database, told by its bot.
    for (;;) {
      const el = await boss.next(BOT, 10_000);
      expect(el, 'the inviter is told').to.exist;
      if (el!.getChildText('body')?.startsWith(`fromweb@${DOMAIN} joined with your invite`)) break;
    }
  });

  it('a member added through the API of the instance that does not lead: the leader makes the contacts (relayed)', async () => {
    const made = await withCore((_, store) => new ApiKeys(store).create('relay-test', ['groups:write']));
    if (!made.ok) throw new Error(made.message);
    const api = (path: string, body: unknown) => fetch(`http://127.0.0.1:${ports[1]}/api/v1${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${made.secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    await Promise.all(['gina', 'hugo'].map((u) => prosody.register(u, PASSWORD)));
    expect((await api('/groups', { name: 'Relay' })).status).to.equal(201);
    for (const u of ['gina', 'hugo']) expect((await api('/groups/Relay/members', { jid: `${u}@${DOMAIN}` })).status).to.equal(201);
    const hugo = await connectUser(prosody.service, `hugo@${DOMAIN}`, PASSWORD);
    try {
      const items = await eventually(() => rosterItems(hugo), (r) => r.some((i) => i.attrs.jid === `gina@${DOMAIN}` && i.attrs.subscription === 'both'), 15_000);
      const gina = items.find((i) => i.attrs.jid === `gina@${DOMAIN}`)!;
      expect(gina.getChildText('group')).to.equal('Relay');
    } finally {
      await hugo.stop();
    }
  });

  it('after a kill -9 of the leader mid-burst: the other leads within seconds, no token makes two accounts, every account has its use', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < TOKENS; i++) tokens.push(tokenOf(await botInviteUri(boss, BOT, 'invite account')));
    const made = new Set<string>();
    const registrations: Promise<void>[] = [];
    const race = (i: number) => {
      // Two apps race for each single-use token.
      for (const side of ['a', 'b']) {
        const username = `r${i}${side}`;
        registrations.push(registerWith(prosody.service, DOMAIN, { token: tokens[i]!, username, password: PASSWORD })
          .then(() => { made.add(username); }, () => {}));
      }
    };
    // Half before the kill, a few in the moment without a component, the rest once the other instance leads.
    const KILL_AT = TOKENS / 2;
    const DURING = 3;
    for (let i = 0; i < KILL_AT; i++) {
      race(i);
      await new Promise((r) => setTimeout(r, 30));
    }
    const killedAt = Date.now();
    const killed = a.kill9();
    for (let i = KILL_AT; i < KILL_AT + DURING; i++) race(i);
    await killed;
    await b.ready();
    const takeover = Date.now() - killedAt;
    expect(takeover, 'the other instance leads within seconds').to.be.below(10_000);
    // Ready means elected; its bot and component may take a moment more on a loaded machine.
    const h = await eventually(() => healthOf(1), (x) => x.status === 'ok' && x.leader === true, 10_000);
    expect(h).to.deep.include({ status: 'ok', leader: true, bot: true, component: true });
    const after = [];
    for (let i = KILL_AT + DURING; i < TOKENS; i++) {
      race(i);
      after.push(i);
      await new Promise((r) => setTimeout(r, 30));
    }
    await Promise.all(registrations);
    const output = `\n--- A\n${a.output.slice(-3000)}\n--- B\n${b.output.slice(-3000)}`;
    for (const i of after) {
      expect(['a', 'b'].filter((side) => made.has(`r${i}${side}`)), `token ${i}, after the takeover: one of its two registrations${output}`).to.have.length(1);
    }

    for (let i = 0; i < TOKENS; i++) {
      const accounts = [];
      for (const side of ['a', 'b']) if (await prosody.userExists(`r${i}${side}`)) accounts.push(`r${i}${side}@${DOMAIN}`);
      expect(accounts.length, `token ${i} made at most one account: ${accounts.join(', ')}`).to.be.at.most(1);
    }
    expect(made.size, `registrations went through before the kill${output}`).to.be.at.least(TOKENS - KILL_AT - DURING);

    // The new leader settles the dead one's holds once its component is online: by whether the account exists.
    const states = await eventually(() => withCore(async (service) => Promise.all(tokens.map(async (t, i) => {
      const found = await service.lookup(t);
      const uses = found.invite?.uses ?? [];
      return { i, state: found.state, uses: uses.map((u) => `${u.jid}${u.pending ? ' (pending)' : ''}`) };
    }))), (s) => s.every((x) => x.uses.every((u) => !u.endsWith('(pending)'))), 15_000);
    for (const { i, state, uses } of states) {
      const account = ['a', 'b'].map((side) => `r${i}${side}`).find((u) => made.has(u));
      if (account) expect({ i, state, uses }).to.deep.equal({ i, state: 'used', uses: [`${account}@${DOMAIN}`] });
      // An account made with the token but not seen by its client (its answer lost in the kill) also counts.
      else if (state === 'used') expect(await prosody.userExists(uses[0]!.split('@')[0]!), `token ${i}'s account exists`).to.equal(true);
      else expect({ i, state, uses }).to.deep.equal({ i, state: 'valid', uses: [] });
    }

    // The new leader answers, and a token left over works through it.
    expect(await botReply(boss, BOT, 'help')).to.include('invite');
    const left = states.find((s) => s.state === 'valid');
    if (left) {
      await registerWith(prosody.service, DOMAIN, { token: tokens[left.i]!, username: 'afterwards', password: PASSWORD });
      expect(await prosody.userExists('afterwards')).to.equal(true);
    }
  });
});
