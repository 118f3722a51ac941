// Invite tokens used on the wire: in-band registration and XEP-0379 through the
// Prosody bridge and our component, with xmpp.js clients as the invitees.
import type { Socket } from 'node:net';
import { expect } from 'chai';
import xml, { type Element } from '@xmpp/xml';
import type { CreateRequest } from '../../src/invites/service.js';
import { type Actor } from '../../src/invites/types.js';
import { openRegistration, refusal, registerWith } from '../helpers/ibr.js';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { COMPONENT, COMPONENT_SECRET, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { connectUser, rosterOf } from '../helpers/xmpp-user.js';
import { eventually } from '../helpers/eventually.js';

const BOSS: Actor = { jid: `boss@${DOMAIN}` };
const NEW_PASSWORD = 'a-new-password-2';

async function mint(stack: Stack, actor: Actor, req: CreateRequest): Promise<string> {
  const r = await stack.app.service.create(actor, req);
  if (!r.ok) throw new Error(r.message);
  return r.token;
}

const register = (stack: Stack, user: { token?: string; username: string; password?: string }) =>
  registerWith(stack.server.service, DOMAIN, { password: PASSWORD, ...user });



const login = (stack: Stack, jid: string, password = PASSWORD) => connectUser(stack.server.service, jid, password).then((u) => { stack.users.push(u); return u; });

describe(`in-band registration with invite tokens (real ${serverName()}, bridge + component)`, function () {
  this.timeout(30_000);
  let stack: Stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.stop(); });

  it('offers both token stream features to unauthenticated clients', async () => {
    const r = await openRegistration(stack.server.service, DOMAIN);
    await r.close();
    expect(r.features.getChild('register', 'urn:xmpp:ibr-token:0'), 'XEP-0445 feature').to.exist;
    expect(r.features.getChild('register', 'urn:xmpp:invite'), 'legacy feature').to.exist;
  });

  it('creates an account from an account invite; the account logs in; the token is then spent', async () => {
    const token = await mint(stack, BOSS, { kind: 'account' });
    await register(stack, { token, username: 'ann' });
    const ann = await login(stack, `ann@${DOMAIN}`);
    expect(String(ann.xmpp.jid)).to.match(/^ann@localhost\//);
    const again = await refusal(register(stack, { token, username: 'ann2' }));
    expect(again).to.deep.equal({ condition: 'item-not-found', text: 'This invite has already been used.' });
    expect(await stack.server.userExists('ann2')).to.equal(false);
    const inv = (await stack.app.service.lookup(token)).invite!;
    expect(inv.uses.map((u) => u.jid)).to.deep.equal([`ann@${DOMAIN}`]);
  });

  it('refuses unknown, expired and revoked tokens with a sentence', async () => {
    expect(await refusal(register(stack, { token: 'A'.repeat(24), username: 'u1' })))
      .to.deep.equal({ condition: 'item-not-found', text: 'This invite is not valid.' });
    const expiring = await mint(stack, BOSS, { kind: 'account' });
    // Expired by a change of the store (what it hands out are copies).
    await stack.app.store.change((await stack.app.service.lookup(expiring)).invite!.id, (d) => {
      d.expiresAt = new Date(Date.now() - 1000).toISOString();
      return { write: true, value: null };
    });
    expect((await refusal(register(stack, { token: expiring, username: 'u2' }))).text).to.equal('This invite has expired.');
    const revoked = await mint(stack, BOSS, { kind: 'account' });
    await stack.app.service.revoke(BOSS, (await stack.app.service.lookup(revoked)).invite!.id);
    expect((await refusal(register(stack, { token: revoked, username: 'u3' }))).text).to.equal('This invite has been revoked.');
    for (const u of ['u1', 'u2', 'u3']) expect(await stack.server.userExists(u)).to.equal(false);
  });

  it('refuses registration without a token: invitation only', async () => {
    const r = await refusal(register(stack, { username: 'sneaky' }));
    expect(r).to.deep.equal({ condition: 'not-acceptable', text: 'Registration on this server is through invitation only.' });
    expect(await stack.server.userExists('sneaky')).to.equal(false);
  });

  it('enforces the username an invite is bound to, and never takes over an account', async () => {
    const token = await mint(stack, BOSS, { kind: 'account', username: 'dora' });
    const wrong = await refusal(register(stack, { token, username: 'mallory' }));
    expect(wrong).to.deep.equal({ condition: 'not-acceptable', text: 'This invite is for the username "dora" only.' });
    const open = await mint(stack, BOSS, { kind: 'account' });
    await stack.server.register('taken', PASSWORD);
    expect((await refusal(register(stack, { token: open, username: 'taken' }))).condition).to.equal('conflict');
    await register(stack, { token, username: 'dora' });
    expect(await stack.server.userExists('dora')).to.equal(true);
    expect((await stack.app.service.lookup(open)).state, 'a refused attempt does not spend the token').to.equal('valid');
  });

  it('gives the use back when the account is not created after all (same name taken meanwhile)', async () => {
    const token = await mint(stack, BOSS, { kind: 'account', maxUses: 2 });
    const streams = await Promise.all([openRegistration(stack.server.service, DOMAIN), openRegistration(stack.server.service, DOMAIN)]);
    await Promise.all(streams.map((s) => s.preauth(token)));
    const results = await Promise.allSettled(streams.map((s) => s.register('twin', PASSWORD)));
    await Promise.all(streams.map((s) => s.close()));
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    // Usually both got a reservation before either account existed and Prosody refuses the
    // second; under load the component may refuse it first. Either way: conflict, use kept.
    expect(lost?.reason?.condition).to.equal('conflict');
    // The loser's reservation was released when its stream closed: the second use is still there.
    await eventually(async () => {
      const r = await stack.app.service.reserve(token, { purpose: 'register', username: 'probe' });
      if (r.ok) await stack.app.service.release(r.reservation);
      return r;
    }, (r) => r.ok);
    await register(stack, { token, username: 'twin2' });
    expect((await stack.app.service.lookup(token)).invite!.uses.map((u) => u.jid)).to.deep.equal([`twin@${DOMAIN}`, `twin2@${DOMAIN}`]);
  });

  it('allows token-less registration when the service is not invitation-only', async () => {
    const open = await startStack({ REGISTRATION_INVITE_ONLY: 'false' });
    try {
      await registerWith(open.server.service, DOMAIN, { username: 'walkin', password: PASSWORD });
      expect(await open.server.userExists('walkin')).to.equal(true);
    } finally {
      await open.stop();
    }
  });

  it('counts the uses of a multi-use invite', async () => {
    const token = await mint(stack, BOSS, { kind: 'account', maxUses: 2 });
    await register(stack, { token, username: 'multi1' });
    await register(stack, { token, username: 'multi2' });
    expect((await refusal(register(stack, { token, username: 'multi3' }))).text).to.equal('This invite has already been used.');
    expect((await stack.app.service.lookup(token)).invite!.uses.map((u) => u.jid)).to.deep.equal([`multi1@${DOMAIN}`, `multi2@${DOMAIN}`]);
  });

  it('makes inviter and invitee mutual contacts with an account+contact invite, and tells the inviter', async () => {
    const boss = await stack.user(`boss@${DOMAIN}`);
    const answer = await boss.ask(stack.env.BOT_JID!, 'invite');
    const token = /preauth=([\w-]+);ibr=y/.exec(answer)?.[1];
    expect(token, answer).to.be.a('string');
    await register(stack, { token, username: 'bea' });
    const bea = await login(stack, `bea@${DOMAIN}`);
    const beaRoster = await eventually(() => rosterOf(bea), (r) => r.get(`boss@${DOMAIN}`)?.subscription === 'both');
    expect(beaRoster.get(`boss@${DOMAIN}`)).to.deep.equal({ subscription: 'both', ask: undefined });
    const bossRoster = await eventually(() => rosterOf(boss), (r) => r.get(`bea@${DOMAIN}`)?.subscription === 'both');
    expect(bossRoster.get(`bea@${DOMAIN}`)).to.deep.equal({ subscription: 'both', ask: undefined });
    const notice = await boss.next(stack.env.BOT_JID!);
    expect(notice?.getChildText('body')).to.match(/^bea@localhost joined with your invite \w+; you are now contacts\.$/);
  });

  it('makes an admin from "invite admin": the new account can use the admin commands', async () => {
    const token = await mint(stack, BOSS, { kind: 'account', roles: ['admin'] });
    await register(stack, { token, username: 'newboss' });
    const newboss = await login(stack, `newboss@${DOMAIN}`);
    const reply = await newboss.ask(stack.env.BOT_JID!, 'invite account');
    expect(reply).to.match(/^Account invite: it creates an account/);
  });

  it('resets only the named account\'s password', async () => {
    await stack.server.register('forgetful', PASSWORD);
    await stack.server.register('bystander', PASSWORD);
    const token = await mint(stack, BOSS, { kind: 'reset', username: 'forgetful' });
    const other = await refusal(register(stack, { token, username: 'bystander', password: NEW_PASSWORD }));
    expect(other.text).to.equal('This invite is for the username "forgetful" only.');
    await register(stack, { token, username: 'forgetful', password: NEW_PASSWORD });
    const u = await login(stack, `forgetful@${DOMAIN}`, NEW_PASSWORD);
    expect(String(u.xmpp.jid)).to.match(/^forgetful@/);
    await login(stack, `bystander@${DOMAIN}`); // unchanged password still works
    expect((await stack.app.service.lookup(token)).state).to.equal('used');
    expect((await refusal(register(stack, { token, username: 'forgetful', password: 'third-password' }))).text)
      .to.equal('This invite has already been used.');
  });

  it('lets exactly one of 50 concurrent registrations have a single-use token', async () => {
    const token = await mint(stack, BOSS, { kind: 'account' });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => register(stack, { token, username: `racer${i}` })));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`racer${i}`] : []));
    expect(won).to.have.length(1);
    const exist = await Promise.all(Array.from({ length: 50 }, (_, i) => stack.server.userExists(`racer${i}`)));
    expect(exist.filter(Boolean)).to.have.length(1);
    expect((await stack.app.service.lookup(token)).invite!.uses.map((u) => u.jid)).to.deep.equal([`${won[0]}@${DOMAIN}`]);
  });
});

describe(`XEP-0379 pre-authenticated subscriptions (real ${serverName()}, bridge + component)`, function () {
  this.timeout(30_000);
  for (const allowUserInvites of [false, true]) {
    describe(`with ALLOW_USER_INVITES=${allowUserInvites}`, () => {
      let stack: Stack;
      before(async () => { stack = await startStack({ ALLOW_USER_INVITES: String(allowUserInvites) }); });
      after(async () => { await stack?.stop(); });

      it('approves a subscription carrying the inviter\'s token and asks for one back', async () => {
        const alice = await stack.user(`alice@${DOMAIN}`);
        const carol = await stack.user(`carol@${DOMAIN}`);
        const answer = await alice.ask(stack.env.BOT_JID!, 'invite');
        expect(answer).to.include(allowUserInvites ? ';ibr=y' : '?roster;preauth=');
        const token = /preauth=([\w-]+)/.exec(answer)![1]!;
        const subscribeBack = new Promise<Element>((resolve) => carol.xmpp.on('stanza', (el: Element) => {
          if (el.is('presence') && el.attrs.type === 'subscribe') resolve(el);
        }));
        await carol.send(xml('presence', { to: `alice@${DOMAIN}`, type: 'subscribe' }, xml('preauth', { xmlns: 'urn:xmpp:pars:0', token })));
        if (stack.server.kind === 'ejabberd') {
          // ejabberd keeps no pre-approval: the bridge takes a contact on its own host as having
          // accepted alice's request back (docs/bridge-protocol.md), so carol is never asked.
          for (const [a, b] of [[alice, carol], [carol, alice]] as const) {
            const r = await eventually(() => rosterOf(a), (m) => m.get(b.jid)?.subscription === 'both');
            expect(r.get(b.jid)?.subscription, `${a.jid} → ${b.jid}`).to.equal('both');
            expect(r.get(b.jid)?.ask, `${a.jid} → ${b.jid}`).to.equal(undefined);
          }
        } else {
          expect(String((await subscribeBack).attrs.from)).to.equal(`alice@${DOMAIN}`);
          const aliceRoster = await eventually(() => rosterOf(alice), (r) => r.get(`carol@${DOMAIN}`)?.subscription === 'from');
          expect(aliceRoster.get(`carol@${DOMAIN}`)).to.deep.equal({ subscription: 'from', ask: 'subscribe' });
          const carolRoster = await eventually(() => rosterOf(carol), (r) => r.get(`alice@${DOMAIN}`)?.subscription === 'to');
          expect(carolRoster.get(`alice@${DOMAIN}`)?.subscription).to.equal('to');
        }
        const notice = await alice.next(stack.env.BOT_JID!);
        expect(notice?.getChildText('body')).to.match(/^carol@localhost added you as a contact with your invite \w+\.$/);
        expect((await stack.app.service.lookup(token)).state).to.equal('used');
      });

      it('passes a request with someone else\'s or a spent token on to the user, unapproved', async () => {
        const alice = await stack.user(`alice@${DOMAIN}`);
        const dave = await stack.user(`dave@${DOMAIN}`);
        const boss = await stack.user(`boss@${DOMAIN}`);
        const bossToken = /preauth=([\w-]+)/.exec(await boss.ask(stack.env.BOT_JID!, 'invite'))![1]!;
        const request = new Promise<Element>((resolve) => alice.xmpp.on('stanza', (el: Element) => {
          if (el.is('presence') && el.attrs.type === 'subscribe' && String(el.attrs.from).startsWith('dave@')) resolve(el);
        }));
        await dave.send(xml('presence', { to: `alice@${DOMAIN}`, type: 'subscribe' }, xml('preauth', { xmlns: 'urn:xmpp:pars:0', token: bossToken })));
        await request;
        const roster = await rosterOf(alice);
        expect(roster.get(`dave@${DOMAIN}`)?.subscription ?? 'none').to.equal('none');
        expect((await stack.app.service.lookup(bossToken)).state, 'not spent by a refused use').to.equal('valid');
      });
    });
  }
});

describe(`the bridge without its component (real ${serverName()})`, function () {
  this.timeout(30_000);
  let stack: Stack;
  before(async () => { stack = await startStack({}, { app: { componentBackoff: { min: 100, max: 400 } } }); });
  after(async () => { await stack?.stop(); });

  it('refuses registration with a "try again later" text while the component is away, and works once it is back', async () => {
    const token = await mint(stack, BOSS, { kind: 'account' });
    await stack.app.component!.stop();
    const r = await refusal(register(stack, { token, username: 'patient' }));
    expect(r).to.deep.equal({ condition: 'service-unavailable', text: 'The invite service is not answering; try again later' });
    expect(await stack.server.userExists('patient')).to.equal(false);
    await stack.app.component!.start();
    await register(stack, { token, username: 'patient' });
    expect(await stack.server.userExists('patient')).to.equal(true);
  });

  it('refuses when the component is connected but does not answer in time (fails closed)', async () => {
    const slow = await startStack({}, {
      prosody: { hostOptions: { ...bridgeOptions(COMPONENT, COMPONENT_SECRET).hostOptions, invites_bridge_timeout: 0.3 } },
      ejabberd: { bridgeTimeout: 0.3 },
    });
    try {
      const token = await mint(slow, BOSS, { kind: 'account' });
      const r = await openRegistration(slow.server.service, DOMAIN);
      // The request is on the wire; then this process (the component too) stalls past the bridge's timeout.
      const answer = refusal(r.preauth(token));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      expect(await answer).to.deep.equal({ condition: 'service-unavailable', text: 'The invite service is not answering; try again later' });
      await r.close();
      await register(slow, { token, username: 'late' }); // answered in time now
    } finally {
      await slow.stop();
    }
  });

  it('a commit lost with the connection still spends the token: the hold is settled once it is back', async () => {
    const token = await mint(stack, BOSS, { kind: 'account' });
    const c = stack.app.component!;
    const online = new Promise((resolve) => c.xmpp.once('online', resolve));
    // Cut the connection right after answering "register": the commit that follows is lost.
    const cut = (el: Element) => {
      if (!el.getChild('register', 'urn:xmpp-invites:bridge:0')) return;
      c.xmpp.off('send', cut);
      setImmediate(() => (c.xmpp.socket as unknown as Socket).destroy());
    };
    c.xmpp.on('send', cut);
    await register(stack, { token, username: 'first' });
    expect(await stack.server.userExists('first')).to.equal(true);
    await online;
    const inv = await eventually(async () => await stack.app.service.lookup(token), (l) => l.state === 'used');
    expect(inv.state).to.equal('used');
    expect(inv.invite!.uses).to.deep.equal([{ jid: `first@${DOMAIN}`, at: inv.invite!.uses[0]!.at }]);
    expect((await refusal(register(stack, { token, username: 'second' }))).text).to.equal('This invite has already been used.');
    expect(await stack.server.userExists('second')).to.equal(false);
  });

  it('reconnects by itself after its connection is cut, then serves registrations again', async () => {
    const token = await mint(stack, BOSS, { kind: 'account' });
    const online = new Promise((resolve) => stack.app.component!.xmpp.once('online', resolve));
    (stack.app.component!.xmpp.socket as unknown as Socket).destroy();
    await online;
    await register(stack, { token, username: 'again' });
    expect(await stack.server.userExists('again')).to.equal(true);
  });

  it('refuses the bridge protocol to anyone but the server, both ways', async () => {
    const eve = await stack.user(`eve@${DOMAIN}`);
    const token = await mint(stack, BOSS, { kind: 'account' });
    const asks: [string, string, Record<string, string>][] = [
      ['get', 'token', { token }],
      ['set', 'register', { username: 'eve2', token }],
      ['set', 'commit', { reservation: 'x', jid: `eve@${DOMAIN}`, token }],
      ['set', 'release', { reservation: 'x' }],
      ['set', 'subscription', { token, user: `boss@${DOMAIN}`, contact: `eve@${DOMAIN}` }],
    ];
    for (const [type, name, attrs] of asks) {
      const r = await refusal(eve.xmpp.iqCaller.request(xml('iq', { type, to: COMPONENT }, xml(name, { xmlns: 'urn:xmpp-invites:bridge:0', ...attrs }))));
      expect(r.condition, name).to.equal('forbidden');
    }
    expect((await stack.app.service.lookup(token)).state).to.equal('valid');
    // Nor may a user ask the bridge to befriend anyone.
    const mallory = await stack.user(`mallory@${DOMAIN}`);
    const r = await refusal(eve.xmpp.iqCaller.request(xml('iq', { type: 'set', to: DOMAIN },
      xml('befriend', { xmlns: 'urn:xmpp-invites:bridge:0', a: `eve@${DOMAIN}`, b: `mallory@${DOMAIN}` }))));
    expect(r.condition).to.equal('forbidden');
    expect((await rosterOf(mallory)).has(`eve@${DOMAIN}`)).to.equal(false);
  });

  it('answers a preauth without a token with bad-request', async () => {
    const r = await openRegistration(stack.server.service, DOMAIN);
    const answer = await refusal(r.preauth(''));
    await r.close();
    expect(answer.condition).to.equal('bad-request');
  });

  it('a token-carrying subscription from a component: Prosody (no async thread there) passes it on unspent, ejabberd approves it', async () => {
    const alice = await stack.user(`alice@${DOMAIN}`);
    const token = /preauth=([\w-]+)/.exec(await alice.ask(stack.env.BOT_JID!, 'invite'))![1]!;
    const delivered = new Promise<Element>((resolve) => alice.xmpp.on('stanza', (el: Element) => {
      if (el.is('presence') && el.attrs.type === 'subscribe') resolve(el);
    }));
    await stack.app.component!.xmpp.send(xml('presence', { from: `gw@${COMPONENT}`, to: `alice@${DOMAIN}`, type: 'subscribe' },
      xml('preauth', { xmlns: 'urn:xmpp:pars:0', token })));
    if (stack.server.kind === 'ejabberd') {
      // ejabberd routes it in a process that can wait for the component: a contact on another domain, approved.
      const inv = await eventually(() => stack.app.service.lookup(token), (l) => l.state === 'used');
      expect(inv.state).to.equal('used');
      const r = await eventually(() => rosterOf(alice), (m) => m.get(`gw@${COMPONENT}`)?.subscription === 'from');
      expect(r.get(`gw@${COMPONENT}`)).to.deep.equal({ subscription: 'from', ask: 'subscribe' });
    } else {
      expect(String((await delivered).attrs.from)).to.equal(`gw@${COMPONENT}`);
      expect((await stack.app.service.lookup(token)).state).to.equal('valid');
    }
  });
});
