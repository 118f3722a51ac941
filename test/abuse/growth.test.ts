// Finding 3 of the security review: ad-hoc commands had no rate limit, the quota
// counted only pending invites and revoked ones stayed a day: one ordinary account
// made and revoked ~250 invites a second (55,716 in 3 minutes, ~10 GB a day).
// Now each asker has an ad-hoc rate limit and a budget of invites per 24 hours that
// revoking does not refund. Real Prosody, the attack as a client sends it.
import { expect } from 'chai';
import type { Element } from '@xmpp/xml';
import { command, errorOf, fieldsOf, formOf, runCommand } from '../helpers/adhoc.js';
import { COMPONENT, DOMAIN, serverName, type Stack, startStack } from '../helpers/stack.js';
import type { User } from '../helpers/xmpp-user.js';

const INVITE = 'urn:xmpp:invite#invite';
const REVOKE = 'urn:xmpp-invites:revoke';

/** One ad-hoc request at the component; the <command/> or the <error/> of the reply. */
const adhoc = (user: User, el: Element) => runCommand(user, COMPONENT, el);

describe(`abuse: one account making and revoking invites (real ${serverName()}, ad-hoc at the component)`, function () {
  this.timeout(60_000);

  describe('with the default ad-hoc rate limit (20 per 30 s)', () => {
    let stack: Stack;
    before(async () => { stack = await startStack(); });
    after(async () => { await stack?.stop(); });

    it('a burst of 60 creations gets 20 answers; the rest are told to wait', async () => {
      const mallory = await stack.user(`mallory@${DOMAIN}`);
      const replies = await Promise.all(Array.from({ length: 60 }, () => adhoc(mallory, command(INVITE, { action: 'execute' }))));
      const made = replies.filter((r) => r.attrs.status === 'completed' && formOf(r));
      const refused = replies.filter((r) => r.name === 'error');
      // MAX_INVITES_PER_USER (10) pending stops creations first; the rate limit answers the rest.
      expect(made.length).to.be.at.most(20);
      expect(refused.length).to.equal(40);
      for (const r of refused) expect(errorOf(r)).to.deep.include({ type: 'wait', condition: 'resource-constraint' });
      expect((await stack.app.store.createdBy(mallory.jid)).length).to.be.at.most(20);
    });
  });

  describe('with a generous rate limit, the daily budget (MAX_INVITES_PER_DAY, default 30)', () => {
    let stack: Stack;
    before(async () => { stack = await startStack({ ADHOC_RATE_LIMIT: '100000/1' }); });
    after(async () => { await stack?.stop(); });

    it('create-and-revoke stops after 30 invites in 24 hours, revoked ones included; the store holds 30', async () => {
      const mallory = await stack.user(`mallory@${DOMAIN}`);
      let created = 0;
      let refusal = '';
      for (let i = 0; i < 40 && !refusal; i++) {
        const made = await adhoc(mallory, command(INVITE, { action: 'execute' }));
        const note = made.getChildren('note').find((n) => n.attrs.type === 'error');
        if (note) { refusal = note.text(); break; }
        created++;
        const form = await adhoc(mallory, command(REVOKE, { action: 'execute' }));
        const id = fieldsOf(formOf(form)).id!.options[0]!;
        const done = await adhoc(mallory, command(REVOKE, { action: 'complete', sessionid: String(form.attrs.sessionid) }, { id }));
        expect(done.attrs.status).to.equal('completed');
      }
      expect(created).to.equal(30);
      expect(refusal).to.equal('You have created 30 invites in the last 24 hours, the most allowed; try again tomorrow.');
      expect(await stack.app.store.createdBy(mallory.jid)).to.have.length(30);
      // Someone else on the server is not affected.
      const ann = await stack.user(`ann@${DOMAIN}`);
      expect((await adhoc(ann, command(INVITE, { action: 'execute' }))).attrs.status).to.equal('completed');
    });
  });
});
