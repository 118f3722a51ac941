// kill -9 of the service (a child process) in the middle of a burst of invite
// creations and in-band registrations, then a restart on the same store.
//
// What the design guarantees, and so what is asserted (docs/store.md, docs/bridge-protocol.md):
// - The store is never half-written: after the kill it opens (LowdbStore.open, whatever
//   the on-disk format is), the stale lock of the dead process is taken over on restart.
// - An invite is shown only once it is on disk: every token the bot sent to an admin
//   (received at any time, even after the kill) is in the store.
// - A use is recorded before anyone is told it is committed. The client's success reply is
//   NOT such a witness: Prosody answers the client, then fires user-registered, and only then
//   does the bridge send `commit`. The witnesses are the commit's result to the bridge (not
//   observable from a client) and, emitted after the same write, the bot's notice to the
//   inviter ("X joined with your invite ID"). So: every token whose use an admin was told of
//   is `used`, by that account.
// - A use is committed only for an account that exists (commit is sent at user-registered):
//   every `used` token names the account registered with it, which exists, and none has more
//   uses than allowed.
// - After the restart, no `used` token registers anything again.
// - A hold is on disk before the server makes the account, so a registration the client saw
//   succeed is recorded once the restarted service has settled the holds the dead one left
//   (by whether the account exists): after the restart every such token is used, by that account.
// Run on both stores: the lowdb files, and PostgreSQL (a private server started here).
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import { InviteService } from '../../src/invites/service.js';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { LocalProsody } from '../../src/server/prosody/local-prosody.js';
import { LocalPostgres } from '../../src/postgres/local-postgres.js';
import { LowdbStore } from '../../src/store/lowdb/lowdb-store.js';
import { openStore } from '../../src/store/open-store.js';
import { eventually } from '../helpers/eventually.js';
import type { InviteStore } from '../../src/store/store.js';
import { openRegistration, refusal, registerWith, type Registration } from '../helpers/ibr.js';
import { ServiceProcess, type ServiceVars } from '../helpers/service-process.js';
import { connectUser, type User } from '../helpers/xmpp-user.js';

const DOMAIN = 'localhost';
const BOT = `invitebot@${DOMAIN}`;
const COMPONENT = `invites.${DOMAIN}`;
const SECRET = 'kill9-component-secret';
const PASSWORD = 'kill9-password-1';
const ADMINS = Array.from({ length: 6 }, (_, i) => `boss${i}@${DOMAIN}`);
/** Commands each admin sends in the burst; two more go out at the kill (the bot allows 10 per 30 s). */
const BURST_PER_ADMIN = 8;
const AT_KILL_PER_ADMIN = 2;

const TOKEN = /preauth=([A-Za-z0-9_-]+)/;
const NOTICE = /^([^@\s]+)@localhost joined with your invite (\w+)\./;

for (const backend of ['lowdb', 'postgres'] as const) describe(`faults: kill -9 of the service during a burst (real Prosody, service as a child process, ${backend} store)`, function () {
  this.timeout(90_000);
  let prosody: LocalProsody;
  let pg: LocalPostgres | undefined;
  let url: string | undefined;
  let dir: string;
  let vars: ServiceVars;
  const services: ServiceProcess[] = [];
  const users: User[] = [];
  const streams: Registration[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-kill9-'));
    prosody = await LocalProsody.start({
      domain: DOMAIN,
      admins: [BOT],
      ...bridgeOptions(COMPONENT, SECRET),
      // Registrations caught by the kill are refused after 1 s instead of 5.
      hostOptions: { ...bridgeOptions(COMPONENT, SECRET).hostOptions, invites_bridge_timeout: 1 },
    });
    await Promise.all(['invitebot', ...ADMINS.map((a) => a.split('@')[0]!)].map((u) => prosody.register(u, PASSWORD)));
    if (backend === 'postgres') {
      pg = await LocalPostgres.start();
      url = await pg.createDatabase();
    }
    vars = { server: prosody, botJid: BOT, botPassword: PASSWORD, componentDomain: COMPONENT, componentSecret: SECRET, admins: ADMINS, dir, ...(url ? { extra: { STORE_URL: url } } : {}) };
  });

  /** The store as the service left it: a copy of the files (opening replays them), or the database itself. */
  async function openLeft(copy: boolean): Promise<InviteStore> {
    if (url) return openStore({ storeFile: join(dir, 'unused.json'), storeFsync: false, storeUrl: url });
    if (!copy) return LowdbStore.open(join(dir, 'invites.json'));
    const inspect = join(dir, `inspect-${Date.now()}`);
    await mkdir(inspect);
    for (const f of await readdir(dir)) if (f.startsWith('invites.') && !f.endsWith('.lock')) await copyFile(join(dir, f), join(inspect, f));
    return LowdbStore.open(join(inspect, 'invites.json'));
  }

  after(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await Promise.all(users.map((u) => u.stop()));
    for (const s of services) await s.stop();
    await prosody?.stop();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every invite shown and every use told of; used tokens stay used after a restart', async () => {
    const first = ServiceProcess.start(vars);
    services.push(first);
    await first.ready();
    const admins = await Promise.all(ADMINS.map((jid) => connectUser(prosody.service, jid, PASSWORD)));
    users.push(...admins);

    // Everything seen from the outside, at any time.
    const shown = new Map<string, string>(); // token → admin who was shown it
    const toldUsed = new Set<string>(); // usernames an admin was told joined
    const usernameOf = new Map<string, string>(); // token → username registered with it
    const clientSuccess = new Set<string>(); // tokens whose registration the server answered with success

    // The burst: registrations start as tokens arrive; every third token is parked on an
    // open stream after its preauth, to send its register at the very moment of the kill.
    const registrations: Promise<unknown>[] = [];
    const parked: { token: string; stream: Registration }[] = [];
    let n = 0;
    let killing = false;
    let triggered!: () => void;
    const trigger = new Promise<void>((resolve) => { triggered = resolve; });
    const check = () => { if (clientSuccess.size >= 10 && toldUsed.size >= 3) triggered(); };

    const onToken = (token: string) => {
      const i = n++;
      if (i % 7 === 3) return; // kept, to be tried after the restart
      const username = `k${i}`;
      usernameOf.set(token, username);
      if (i % 3 === 0) {
        registrations.push(openRegistration(prosody.service, DOMAIN).then(async (stream) => {
          streams.push(stream);
          await stream.preauth(token);
          if (!killing) parked.push({ token, stream });
        }).catch(() => {}));
        return;
      }
      registrations.push(registerWith(prosody.service, DOMAIN, { token, username, password: PASSWORD })
        .then(() => { clientSuccess.add(token); check(); }, () => {}));
    };

    for (const admin of admins) {
      admin.xmpp.on('stanza', (el: Element) => {
        if (!el.is('message') || String(el.attrs.from).split('/')[0] !== BOT) return;
        const body = el.getChildText('body') ?? '';
        const token = TOKEN.exec(body)?.[1];
        if (token) {
          shown.set(token, admin.jid);
          if (!killing) onToken(token);
          return;
        }
        const told = NOTICE.exec(body);
        if (told) { toldUsed.add(told[1]!); check(); }
      });
    }
    const ask = (admin: User) => admin.send(xml('message', { to: BOT, type: 'chat' }, xml('body', {}, 'invite account')));
    await Promise.all(admins.flatMap((a) => Array.from({ length: BURST_PER_ADMIN }, () => ask(a))));

    await trigger;
    // The kill: in one synchronous block, the parked registrations and more invite requests are
    // written to their sockets and the service gets SIGKILL, so all of these are in flight.
    killing = true;
    expect(parked.length, 'registrations parked for the kill').to.be.greaterThan(0);
    const lastRegisters = parked.map(({ token, stream }) => stream.register(usernameOf.get(token)!, PASSWORD)
      .then(() => { clientSuccess.add(token); }, () => {}));
    const sends = admins.flatMap((a) => Array.from({ length: AT_KILL_PER_ADMIN }, () => ask(a)));
    const killed = first.kill9();
    await Promise.allSettled(sends);
    await killed;

    await Promise.all([...registrations, ...lastRegisters]);
    // Let in-transit messages from the dead bot arrive: a round trip to the server after them.
    await Promise.all(admins.map((a) => a.xmpp.iqCaller.request(xml('iq', { type: 'get', to: DOMAIN }, xml('ping', { xmlns: 'urn:xmpp:ping' })))));

    expect(shown.size, 'invites shown before the kill').to.be.greaterThan(10);
    expect(toldUsed.size, 'uses told of before the kill').to.be.at.least(3);

    // The store as the dead process left it, read the way the service reads it (opening it
    // replays and folds its journal, so a copy is opened: the restart below recovers the original).
    const store = await openLeft(true);
    const core = new InviteService(store, { domain: DOMAIN, admins: ADMINS, allowUserInvites: false, allowContactInvites: true, maxInvitesPerUser: 10, inviteExpiry: 604800, resetExpiry: 86400 });
    const states = new Map(await Promise.all([...shown.keys()].map(async (t) => [t, await core.lookup(t)] as const)));
    for (const [token, found] of states) {
      expect(found.state, `an invite shown to ${shown.get(token)} is in the store`).to.be.oneOf(['valid', 'used']);
    }
    const tokenOfUser = new Map([...usernameOf].map(([t, u]) => [u, t]));
    for (const username of toldUsed) {
      const found = states.get(tokenOfUser.get(username)!)!;
      expect(found.state, `the use by ${username} was told, so it is recorded`).to.equal('used');
      expect(found.invite!.uses.map((u) => u.jid)).to.deep.equal([`${username}@${DOMAIN}`]);
    }
    const used = [...states].filter(([, f]) => f.state === 'used').map(([t]) => t);
    for (const token of used) {
      const inv = states.get(token)!.invite!;
      expect(inv.uses.map((u) => u.jid), 'the account registered with it, once').to.deep.equal([`${usernameOf.get(token)}@${DOMAIN}`]);
      expect(await prosody.userExists(usernameOf.get(token)!), `${usernameOf.get(token)} exists`).to.equal(true);
    }
    core.close();
    await store.close();

    // Restart on the same store: it takes over the dead process's lock and comes back.
    const second = ServiceProcess.start(vars);
    services.push(second);
    await second.ready();
    for (const token of used) {
      const r = await refusal(registerWith(prosody.service, DOMAIN, { token, username: `again-${usernameOf.get(token)}`, password: PASSWORD }));
      expect(r, 'a used token is refused after the restart').to.deep.equal({ condition: 'item-not-found', text: 'This invite has already been used.' });
      expect(await prosody.userExists(`again-${usernameOf.get(token)}`)).to.equal(false);
    }
    // Every account the server made with a token (its client told so, or not: the kill may
    // have cut the answer) keeps that token spent: settled as used by the new process.
    const madeWith = [];
    for (const [token, username] of usernameOf) if (await prosody.userExists(username)) madeWith.push(token);
    expect(madeWith.length, 'accounts made in the burst').to.be.at.least(clientSuccess.size);
    const attempted: string[] = [];
    for (const token of madeWith.filter((t) => !used.includes(t))) {
      // Refused "in use" (wait) while the new process settles the hold; "used" once settled.
      const again = () => { attempted.push(`twice${attempted.length}-${usernameOf.get(token)}`); return attempted.at(-1)!; };
      const r = await eventually(
        () => refusal(registerWith(prosody.service, DOMAIN, { token, username: again(), password: PASSWORD })),
        (x) => x.condition !== 'resource-constraint', 15_000);
      expect(r, `the token of ${usernameOf.get(token)} makes no second account`).to.deep.equal({ condition: 'item-not-found', text: 'This invite has already been used.' });
    }
    for (const u of attempted) expect(await prosody.userExists(u), u).to.equal(false);
    // Invites shown but never tried still work, and their use is recorded by the new process.
    const untried = [...shown.keys()].filter((t) => !usernameOf.has(t));
    expect(untried.length, 'invites kept aside, never tried').to.be.greaterThan(0);
    const fresh = untried[0]!;
    await registerWith(prosody.service, DOMAIN, { token: fresh, username: 'afterwards', password: PASSWORD });
    const inviter = admins.find((a) => a.jid === shown.get(fresh))!;
    for (;;) { // the notice comes after the replies still queued in this client's inbox
      const el = await inviter.next(BOT, 5000);
      expect(el, 'the inviter is told of the use').to.exist;
      if (el!.getChildText('body')?.startsWith(`afterwards@${DOMAIN} joined`)) break;
    }
    await second.stop();
    const afterStore = await openLeft(false);
    const after = new InviteService(afterStore, core.settings);
    expect((await after.lookup(fresh)).invite?.uses.map((u) => u.jid)).to.deep.equal([`afterwards@${DOMAIN}`]);
    // And every account made in the burst is its token's one use, nothing left pending.
    for (const token of madeWith) {
      const found = await after.lookup(token);
      expect({ state: found.state, uses: found.invite?.uses }, usernameOf.get(token))
        .to.deep.equal({ state: 'used', uses: [{ jid: `${usernameOf.get(token)}@${DOMAIN}`, at: found.invite!.uses[0]!.at }] });
    }
    after.close();
    await afterStore.close();
  });
});
