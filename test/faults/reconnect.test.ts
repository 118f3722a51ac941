// Connections cut under load: the component's link to Prosody cut in the middle of a
// registration, and Prosody itself going away and coming back. test/integration/bridge.test.ts
// covers a component stopped before a registration, one too slow to answer, and a cut
// between registrations; bot.test.ts the bot alone after a Prosody restart. Here:
// - a cut after the client presented its token and before it registers (the bridge refuses
//   with its try-again text, the same stream succeeds once the component is back);
// - a cut after the component granted the reservation and before the commit arrives (the
//   account exists, the bridge logs the lost commit, and nobody else gets the token);
// - Prosody down for a while (the component's reconnect delays double up to the cap), then
//   up: bot and component both back, and a whole invite → registration → notice flow works.
// To hold the component offline for a known stretch, its service address is pointed at a
// closed port (its reconnects then really fail with ECONNREFUSED) and restored afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Element } from '@xmpp/xml';
import { App } from '../../src/app.js';
import type { Component } from '../../src/component/component.js';
import { parseConfig } from '../../src/config.js';
import { bridgeOptions } from '../../src/server/prosody/bridge-setup.js';
import { freePorts } from '../../src/server/free-port.js';
import type { LocalXmppServer } from '../../src/server/local-xmpp-server.js';
import { NS_BRIDGE } from '../../src/xmpp/bridge-protocol.js';
import { openRegistration, refusal, registerWith } from '../helpers/ibr.js';
import { BOT, COMPONENT, COMPONENT_SECRET, DOMAIN, PASSWORD, serverName, type Stack, startServer, startStack } from '../helpers/stack.js';
import { connectUser, type User } from '../helpers/xmpp-user.js';

const TRY_AGAIN = { condition: 'service-unavailable', text: 'The invite service is not answering; try again later' };
const BACKOFF = { min: 50, max: 400 };
const BOSS = `boss@${DOMAIN}`;

/** Cutting the component's connection so that its reconnects fail (ECONNREFUSED) until released. */
async function holder(component: Component): Promise<{ cut(): void; release(): void }> {
  const [closed] = await freePorts(1);
  const real = component.xmpp.options.service;
  return {
    cut() {
      component.xmpp.options.service = `xmpp://127.0.0.1:${closed}`;
      (component.xmpp.socket as unknown as Socket).destroy();
    },
    release() { component.xmpp.options.service = real; },
  };
}

const online = (entity: { once(event: 'online', fn: () => void): unknown }) => new Promise<void>((resolve) => entity.once('online', () => resolve()));

async function untilLogged(server: LocalXmppServer, re: RegExp): Promise<string> {
  for (;;) {
    const line = (await server.readLog()).split('\n').find((l) => re.test(l));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe(`faults: the component's connection cut during registration (real ${serverName()})`, function () {
  this.timeout(30_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({}, {
      prosody: { hostOptions: { ...bridgeOptions(COMPONENT, COMPONENT_SECRET).hostOptions, invites_bridge_timeout: 1 } },
      ejabberd: { bridgeTimeout: 1 },
      app: { componentBackoff: BACKOFF },
    });
  });
  after(() => stack?.stop());

  async function mint(): Promise<string> {
    const r = await stack.app.service.create({ jid: BOSS }, { kind: 'account' });
    if (!r.ok) throw new Error(r.message);
    return r.token;
  }

  it('cut between preauth and register: refused with the try-again text, then the same stream registers', async () => {
    const component = stack.app.component!;
    const token = await mint();
    const stream = await openRegistration(stack.server.service, DOMAIN);
    try {
      await stream.preauth(token);
      const hold = await holder(component);
      hold.cut();
      const refused = await refusal(stream.register('midway', PASSWORD));
      expect(refused).to.deep.equal(TRY_AGAIN);
      expect(await stack.server.userExists('midway')).to.equal(false);
      expect((await stack.app.service.lookup(token)).state, 'nothing spent').to.equal('valid');

      const back = online(component.xmpp);
      hold.release();
      await back; // by itself, at its next attempt
      await stream.register('midway', PASSWORD); // "try again later", on the same stream: the token it presented still counts
    } finally {
      await stream.close();
    }
    expect(await stack.server.userExists('midway')).to.equal(true);
    expect((await stack.app.service.lookup(token)).invite!.uses.map((u) => u.jid)).to.deep.equal([`midway@${DOMAIN}`]);
  });

  it('cut after the reservation, before the commit: the account exists, the lost commit is logged, nobody else gets the token', async () => {
    const component = stack.app.component!;
    const token = await mint();
    const hold = await holder(component);
    let cut = false;
    // On the wire already (the 'send' event follows the socket write): the reservation reaches Prosody.
    const cutAfterReserve = (el: Element) => {
      if (!cut && el.is('iq') && el.attrs.type === 'result' && el.getChild('register', NS_BRIDGE)) {
        cut = true;
        hold.cut();
      }
    };
    component.xmpp.on('send', cutAfterReserve);
    try {
      // Prosody answers the client before it fires user-registered, so the client sees success.
      await registerWith(stack.server.service, DOMAIN, { token, username: 'halfway', password: PASSWORD });
    } finally {
      component.xmpp.removeListener('send', cutAfterReserve);
    }
    expect(await stack.server.userExists('halfway')).to.equal(true);
    // Prosody times out or bounces remote-server-timeout; the ejabberd bridge sends nothing once the
    // component's route is gone (not connected), else it times out or bounces forbidden.
    const why = stack.server.kind === 'ejabberd' ? /not confirmed \((not connected|forbidden|timeout)\)/ : /not confirmed \((remote-server-timeout|timeout)\)/;
    expect(await untilLogged(stack.server, /use by halfway@localhost not confirmed/)).to.match(why);

    expect(cut).to.equal(true);
    const back = online(component.xmpp);
    hold.release();
    await back;
    // The reservation still holds the single use: the component refuses anyone else (as "in
    // use right now" while it holds; "already used" would do as well).
    const r = await refusal(registerWith(stack.server.service, DOMAIN, { token, username: 'intruder', password: PASSWORD }));
    expect(r.condition).to.be.oneOf(['resource-constraint', 'item-not-found']);
    expect(r.text).to.match(/^This invite (is being used right now|has already been used)/);
    expect(await stack.server.userExists('intruder')).to.equal(false);
  });
});

describe(`faults: the server down and back up (real ${serverName()}, in-process service)`, function () {
  // A server restart under load, and a stalled attempt cut after 20 s (stall-guard.ts), fit.
  this.timeout(60_000);
  let dir: string;
  let server: LocalXmppServer | undefined;
  let app: App | undefined;
  const users: User[] = [];

  after(async () => {
    await Promise.all(users.map((u) => u.stop()));
    await app?.stop();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('bot and component reconnect (the component backing off), then invite, registration and notice all work', async () => {
    dir = await mkdtemp(join(tmpdir(), 'invites-restart-'));
    const where = { dir: join(dir, 'server') };
    server = await startServer({ prosody: where, ejabberd: where });
    const ports = { c2sPort: server.c2sPort, componentPort: server.componentPort };
    await Promise.all([server.register('invitebot', PASSWORD), server.register('boss', PASSWORD)]);
    app = await App.start(parseConfig({
      XMPP_SERVICE: server.service, BOT_JID: BOT, BOT_PASSWORD: PASSWORD, ADMINS: BOSS,
      COMPONENT_DOMAIN: COMPONENT, COMPONENT_SERVICE: server.componentService, COMPONENT_SECRET,
      STORE_FILE: join(dir, 'invites.json'),
    }), { componentBackoff: BACKOFF });
    const component = app.component!;
    const before = await app.service.create({ jid: BOSS }, { kind: 'account' });
    if (!before.ok) throw new Error(before.message);

    // Down: every reconnect of the component fails; record the delay it waits each time.
    const delays: number[] = [];
    let failures!: () => void;
    const enough = new Promise<void>((resolve) => { failures = resolve; });
    const onDisconnect = () => {
      delays.push(component.retryDelay);
      if (delays.length >= 6) failures();
    };
    component.xmpp.on('disconnect', onDisconnect);
    await server.stop();
    await enough;
    component.xmpp.removeListener('disconnect', onDisconnect);
    expect(delays.slice(0, 6), 'doubling from min to max').to.deep.equal([50, 100, 200, 400, 400, 400]);

    // Up again, same data and ports.
    const back = Promise.all([online(app.bot.xmpp), online(component.xmpp)]);
    server = await startServer({ prosody: { ...where, ...ports }, ejabberd: { ...where, ...ports } });
    await back;
    expect(component.retryDelay, 'reset once online').to.equal(BACKOFF.min);

    const boss = await connectUser(server.service, BOSS, PASSWORD);
    users.push(boss);
    const reply = await boss.ask(BOT, 'invite account');
    const token = /preauth=([A-Za-z0-9_-]+)/.exec(reply)?.[1];
    expect(token, reply).to.be.a('string');
    await registerWith(server.service, DOMAIN, { token, username: 'phoenix', password: PASSWORD });
    const phoenix = await connectUser(server.service, `phoenix@${DOMAIN}`, PASSWORD);
    users.push(phoenix);
    const notice = await boss.next(BOT, 5000);
    expect(notice?.getChildText('body')).to.match(/^phoenix@localhost joined with your invite \w+\.$/);
    expect((await app.service.lookup(token!)).invite!.uses.map((u) => u.jid)).to.deep.equal([`phoenix@${DOMAIN}`]);
    // An invite made before the restart works after it.
    await registerWith(server.service, DOMAIN, { token: before.token, username: 'survivor', password: PASSWORD });
    expect((await app.service.lookup(before.token)).state).to.equal('used');
  });
});
