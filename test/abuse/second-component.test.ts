// Whoever connects as the component decides registrations and resets. Prosody refuses a
// second connection for the component's domain while ours holds it; ejabberd accepts every
// one with the secret and balances the domain over them (seen on 23.01 and 24.12), so there
// our bridge refuses invite registrations, fail closed, while more than one holds it.
import { expect } from 'chai';
import { Component } from '../../src/component/component.js';
import { iqError } from '../helpers/raw-iq.js';
import { COMPONENT, COMPONENT_SECRET, DOMAIN, PASSWORD, serverName, type Stack, startStack } from '../helpers/stack.js';
import { conversations, registerLike } from '../conformance/clients.js';

describe(`abuse: a second connection with the component's secret (real ${serverName()})`, function () {
  this.timeout(60_000);
  let stack: Stack;
  let intruder: Component | undefined;
  before(async () => { stack = await startStack(); });
  after(async () => {
    await intruder?.stop().catch(() => undefined);
    await stack?.stop();
  });

  const tryInvite = async (username: string) => {
    const made = await stack.app.service.create({ system: 'cli' }, { kind: 'account' });
    if (!made.ok) throw new Error(made.message);
    const { preauth, register } = await registerLike(conversations, stack.server.service, DOMAIN, made.token, username, PASSWORD);
    return { preauth, register, state: (await stack.app.service.lookup(made.token)).state };
  };

  it('never shares the decisions: refused by Prosody, or every invite registration refused while two hold the domain on ejabberd', async () => {
    intruder = new Component({ service: stack.server.componentService, domain: COMPONENT, secret: COMPONENT_SECRET, backoff: { min: 60_000, max: 60_000 } });
    await Promise.race([intruder.start().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    await new Promise((r) => setTimeout(r, 500)); // Prosody closes a refused one with a conflict just after the handshake
    const online = intruder.online;
    if (stack.server.kind === 'prosody') {
      expect(online, 'Prosody takes a second connection for a connected component').to.equal(false);
      expect((await tryInvite('afterintruder')).register?.attrs.type).to.equal('result');
      return;
    }
    expect(online, 'ejabberd takes a second connection with the secret').to.equal(true);
    for (let i = 0; i < 4; i++) {
      const tried = await tryInvite(`shared${i}`);
      expect(iqError(tried.preauth!), `attempt ${i}`).to.deep.include({ type: 'wait', condition: 'service-unavailable' });
      expect(tried.state).to.equal('valid');
      expect(await stack.server.userExists(`shared${i}`)).to.equal(false);
    }
    await intruder.stop();
    intruder = undefined;
    await new Promise((r) => setTimeout(r, 500));
    expect((await tryInvite('alone')).register?.attrs.type).to.equal('result');
  });
});
