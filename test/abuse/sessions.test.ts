// Finding 5 of the security review: 200 accounts could evict everyone's open
// ad-hoc sessions (1,000 in all, 5 per account, oldest evicted first), so an
// admin's form in progress failed with bad-sessionid. Replayed at a smaller scale
// (limits 6 per pool, 2 per account) through the component on a real Prosody.
import { expect } from 'chai';
import type { Element } from '@xmpp/xml';
import { command, runCommand } from '../helpers/adhoc.js';
import { COMPONENT, DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
import type { User } from '../helpers/xmpp-user.js';

const RESET = 'urn:xmpp-invites:reset';
const REVOKE = 'urn:xmpp-invites:revoke';

const ask = (user: User, el: Element) => runCommand(user, COMPONENT, el);

describe(`abuse: many accounts holding ad-hoc forms open (real ${serverName()}, at the component)`, function () {
  this.timeout(60_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({ ADHOC_RATE_LIMIT: '1000/1' }, { app: { adhocSessions: { max: 6, maxPerOwner: 2 } } });
  });
  after(async () => { await stack?.stop(); });

  it('an admin\'s form in progress, and a user\'s single one, outlive a flood of other accounts\' forms', async () => {
    const boss = await stack.user(`boss@${DOMAIN}`);
    const ann = await stack.user(`ann@${DOMAIN}`);
    const adminForm = await ask(boss, command(RESET, { action: 'execute' }));
    await stack.app.service.create({ jid: ann.jid }, { kind: 'contact' });
    const annForm = await ask(ann, command(REVOKE, { action: 'execute' }));
    expect([adminForm.attrs.status, annForm.attrs.status]).to.deep.equal(['executing', 'executing']);
    // Five accounts, each opening more revoke forms than its share, over and over.
    for (let m = 0; m < 5; m++) {
      const mallory = await stack.user(`mallory${m}@${DOMAIN}`);
      await stack.app.service.create({ jid: mallory.jid }, { kind: 'contact' });
      for (let k = 0; k < 4; k++) await ask(mallory, command(REVOKE, { action: 'execute' })).catch(() => undefined);
    }
    const done = await ask(boss, command(RESET, { action: 'complete', sessionid: String(adminForm.attrs.sessionid) },
      { accountjid: `ann@${DOMAIN}` }));
    expect(done.attrs.status, done.toString()).to.equal('completed');
    const id = await stack.app.service.listPending({ jid: ann.jid });
    const annDone = await ask(ann, command(REVOKE, { action: 'complete', sessionid: String(annForm.attrs.sessionid) },
      { id: id.ok ? id.invites[0]!.id : '' }));
    expect(annDone.attrs.status, annDone.toString()).to.equal('completed');
  });
});
